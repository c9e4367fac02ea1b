using System;

namespace Qinco.Core;

/// <summary>
/// How a code is packed: <see cref="Steps"/> indices (M) of <see cref="BitsPerStep"/> bits each, least-significant
/// bit first, in <see cref="CodeSize"/> = ceil(M * bits / 8) bytes (the layout of <see cref="CodePacking"/>).
/// </summary>
public sealed record CodeLayout
{
    /// <summary>The largest <see cref="BitsPerStep"/>: the quantizers' codebooks hold at most 2^16 codewords.</summary>
    public const int MaxBitsPerStep = 16;

    /// <summary>Creates the layout of <paramref name="steps"/> indices of <paramref name="bitsPerStep"/> bits.</summary>
    /// <param name="steps">Indices per code (M), 1 or more.</param>
    /// <param name="bitsPerStep">Bits per index, 1 to <see cref="MaxBitsPerStep"/>; each step has 2^bits codewords.</param>
    /// <exception cref="ArgumentOutOfRangeException">A step count below 1, bits outside 1..<see cref="MaxBitsPerStep"/>,
    /// or codes longer than an array holds.</exception>
    public CodeLayout(int steps, int bitsPerStep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerStep, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitsPerStep, MaxBitsPerStep);
        long bytes = (((long)steps * bitsPerStep) + 7) / 8;
        if (bytes > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), $"{steps} steps of {bitsPerStep} bits need {bytes}-byte codes, more than an array holds.");
        }
        Steps = steps;
        BitsPerStep = bitsPerStep;
        CodeSize = (int)bytes;
    }

    /// <summary>Indices per code (M).</summary>
    public int Steps { get; }

    /// <summary>Bits per index; each step has <c>2^BitsPerStep</c> codewords.</summary>
    public int BitsPerStep { get; }

    /// <summary>Bytes per packed code: ceil(<see cref="Steps"/> * <see cref="BitsPerStep"/> / 8).</summary>
    public int CodeSize { get; }
}
