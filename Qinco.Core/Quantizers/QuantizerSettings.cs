using System;

namespace Qinco.Core;

/// <summary>
/// The bounds every quantizer's options and every model file are checked against, in one place: the same values
/// apply when a quantizer is built and when a saved one is loaded.
/// </summary>
public static class QuantizerLimits
{
    /// <summary>Largest vector dimension (65,536 floats).</summary>
    public const int MaxDimension = 1 << 16;

    /// <summary>Largest number of code indices per vector, M.</summary>
    public const int MaxSteps = 1024;

    /// <summary>Largest number of bits per code index (K = 65,536 codewords per step).</summary>
    public const int MaxCodebookBits = CodeLayout.MaxBitsPerStep;

    /// <summary>Largest encoder beam width.</summary>
    public const int MaxBeamWidth = 1024;

    /// <summary>Largest number of pre-selected candidate codewords per beam.</summary>
    public const int MaxCandidates = Numerics.RowSelection.MaxTopK;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="option"/> when <paramref name="condition"/> is false.</summary>
    internal static void Require(bool condition, string option, object value, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(option, value, $"Option {option} = {value} {rule}.");
        }
    }

    internal static void RequireShape(int dimension, int steps, int codebookBits)
    {
        Require(dimension >= 1 && dimension <= MaxDimension, "Dimension", dimension, $"must be in 1..{MaxDimension}");
        Require(steps >= 1 && steps <= MaxSteps, "Steps", steps, $"must be in 1..{MaxSteps}");
        Require(codebookBits >= 1 && codebookBits <= MaxCodebookBits, "CodebookBits", codebookBits, $"must be in 1..{MaxCodebookBits}");
    }
}

/// <summary>
/// How an encoder searches for codes (ALGORITHM.md §5.3–5.4, §6.3): it keeps <see cref="BeamWidth"/> partial codes
/// per vector between steps and, where the method supports it, scores only the <see cref="Candidates"/> codewords
/// nearest to each beam's residual.
/// </summary>
/// <param name="BeamWidth">Beams kept per vector between steps, 1..<see cref="QuantizerLimits.MaxBeamWidth"/>; 1 is greedy.</param>
/// <param name="Candidates">Codewords per beam that are scored, pre-selected by distance to the beam's residual;
/// 0 scores all K (QINCo1's exhaustive search); at most <see cref="QuantizerLimits.MaxCandidates"/>.</param>
public readonly record struct EncoderSearch(int BeamWidth, int Candidates = 0)
{
    /// <summary>QINCo1's greedy, exhaustive search: one beam, every codeword scored.</summary>
    public static EncoderSearch Greedy => new(1, 0);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the invalid field.</summary>
    public void Validate()
    {
        QuantizerLimits.Require(BeamWidth >= 1 && BeamWidth <= QuantizerLimits.MaxBeamWidth, nameof(BeamWidth), BeamWidth, $"must be in 1..{QuantizerLimits.MaxBeamWidth}");
        QuantizerLimits.Require(Candidates >= 0 && Candidates <= QuantizerLimits.MaxCandidates, nameof(Candidates), Candidates, $"must be 0 (all codewords) or in 1..{QuantizerLimits.MaxCandidates}");
    }

    /// <summary>Candidates scored per beam for a codebook of <paramref name="codebookSize"/> codewords (K when pre-selection is off or A ≥ K).</summary>
    public int CandidatesPerBeam(int codebookSize) => Candidates == 0 ? codebookSize : Math.Min(Candidates, codebookSize);

    /// <inheritdoc/>
    public override string ToString() => $"beam {BeamWidth} x {(Candidates == 0 ? "all" : Candidates)}";
}
