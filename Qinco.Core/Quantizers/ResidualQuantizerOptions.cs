using System;
using Microsoft.Extensions.Logging;

namespace Qinco.Core;

/// <summary>Settings of a <see cref="ResidualQuantizer"/>. Create through <see cref="Quantizer.Residual(int)"/> or directly.</summary>
public sealed record ResidualQuantizerOptions
{
    /// <summary>Floats per vector (required, at least 1).</summary>
    public int Dimension { get; init; }

    /// <summary>Number of quantization steps M (default 8): one codebook and one code index per step.</summary>
    public int Steps { get; init; } = 8;

    /// <summary>Bits per code index, 1..16 (default 8, i.e. K = 256 codewords per step).</summary>
    public int CodebookBits { get; init; } = 8;

    /// <summary>Beam width B of the encoder and of training (default 5, as Faiss' <c>max_beam_size</c>); 1 is greedy.</summary>
    public int BeamWidth { get; init; } = 5;

    /// <summary>Lloyd iterations per k-means run (default 10, as Faiss' progressive-dimension clustering).</summary>
    public int KMeansIterations { get; init; } = 10;

    /// <summary>Whether each step's k-means runs progressively on growing PCA dimensions (default true, as Faiss' <c>Train_progressive_dim</c>).</summary>
    public bool ProgressiveDimensions { get; init; } = true;

    /// <summary>Seed of the k-means initialisations and subsampling (default 1234, as Faiss).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Threads for training and encoding; -1 (default) uses all processors.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Where training progress is logged; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Codewords per step, <c>2^CodebookBits</c>.</summary>
    public int CodebookSize => 1 << CodebookBits;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        Require(Dimension >= 1, nameof(Dimension), Dimension, "must be at least 1");
        Require(Steps >= 1 && Steps <= 4096, nameof(Steps), Steps, "must be in 1..4096");
        Require(CodebookBits >= 1 && CodebookBits <= 16, nameof(CodebookBits), CodebookBits, "must be in 1..16");
        Require(BeamWidth >= 1 && BeamWidth <= 1024, nameof(BeamWidth), BeamWidth, "must be in 1..1024");
        Require(KMeansIterations >= 1, nameof(KMeansIterations), KMeansIterations, "must be at least 1");
        Require(MaxDegreeOfParallelism == -1 || MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "must be -1 (all processors) or at least 1");
    }

    internal static void Require(bool condition, string option, object value, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(option, value, $"Option {option} = {value} {rule}.");
        }
    }
}
