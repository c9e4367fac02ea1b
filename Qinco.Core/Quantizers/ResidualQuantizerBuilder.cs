using System;
using Microsoft.Extensions.Logging;

namespace Qinco.Core;

/// <summary>Fluent builder of <see cref="ResidualQuantizer"/>; every method returns the builder, <see cref="Build"/> validates.</summary>
public sealed class ResidualQuantizerBuilder
{
    private ResidualQuantizerOptions _options;

    internal ResidualQuantizerBuilder(ResidualQuantizerOptions options) => _options = options;

    /// <summary>Number of quantization steps M (default 8).</summary>
    public ResidualQuantizerBuilder WithSteps(int steps) => Set(_options with { Steps = steps });

    /// <summary>Bits per code index, 1..16 (default 8: 256 codewords per step).</summary>
    public ResidualQuantizerBuilder WithCodebookBits(int bits) => Set(_options with { CodebookBits = bits });

    /// <summary>Beam width of encoding and training (default 5; 1 is greedy).</summary>
    public ResidualQuantizerBuilder WithBeamWidth(int beamWidth) => Set(_options with { BeamWidth = beamWidth });

    /// <summary>Lloyd iterations per k-means run (default 10).</summary>
    public ResidualQuantizerBuilder WithKMeansIterations(int iterations) => Set(_options with { KMeansIterations = iterations });

    /// <summary>Whether k-means runs on progressively more PCA dimensions (default true).</summary>
    public ResidualQuantizerBuilder WithProgressiveDimensions(bool enabled) => Set(_options with { ProgressiveDimensions = enabled });

    /// <summary>Seed of the k-means initialisation and subsampling (default 1234).</summary>
    public ResidualQuantizerBuilder WithSeed(int seed) => Set(_options with { Seed = seed });

    /// <summary>Threads for training and encoding; -1 (default) uses all processors.</summary>
    public ResidualQuantizerBuilder WithThreads(int maxDegreeOfParallelism) => Set(_options with { MaxDegreeOfParallelism = maxDegreeOfParallelism });

    /// <summary>Logs training progress to <paramref name="loggerFactory"/>.</summary>
    public ResidualQuantizerBuilder WithLogging(ILoggerFactory loggerFactory) => Set(_options with { LoggerFactory = loggerFactory });

    /// <summary>The options gathered so far.</summary>
    public ResidualQuantizerOptions Options => _options;

    /// <summary>Validates the options and creates an untrained quantizer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid; the exception names it.</exception>
    public ResidualQuantizer Build() => new(_options);

    private ResidualQuantizerBuilder Set(ResidualQuantizerOptions options)
    {
        _options = options;
        return this;
    }
}
