using Microsoft.Extensions.Logging;

namespace Qinco.Core;

/// <summary>
/// The fluent face of a quantizer's options record: every <c>With…</c> method returns the builder with one option
/// changed; <see cref="Build"/> validates the options (an invalid one throws
/// <see cref="System.ArgumentOutOfRangeException"/> naming it) and creates the untrained quantizer.
/// </summary>
/// <typeparam name="TBuilder">The concrete builder (returned by every method).</typeparam>
/// <typeparam name="TOptions">The options record.</typeparam>
/// <typeparam name="TQuantizer">The quantizer built.</typeparam>
public abstract class QuantizerBuilder<TBuilder, TOptions, TQuantizer>
    where TBuilder : QuantizerBuilder<TBuilder, TOptions, TQuantizer>
    where TOptions : QuantizerOptions
{
    private protected QuantizerBuilder(TOptions options) => Options = options;

    /// <summary>The options gathered so far.</summary>
    public TOptions Options { get; private set; }

    /// <summary>Number of code indices per vector, M (default 8).</summary>
    public TBuilder WithSteps(int steps) => Set((TOptions)(Options with { Steps = steps }));

    /// <summary>Bits per code index (default 8: 256 codewords per step).</summary>
    public TBuilder WithCodebookBits(int bits) => Set((TOptions)(Options with { CodebookBits = bits }));

    /// <summary>Seed of every random choice of fitting (default 1234).</summary>
    public TBuilder WithSeed(int seed) => Set((TOptions)(Options with { Seed = seed }));

    /// <summary>Threads for fitting, encoding and decoding; -1 (default) uses all processors.</summary>
    public TBuilder WithThreads(int maxDegreeOfParallelism) => Set((TOptions)(Options with { Parallelism = new Parallelism(maxDegreeOfParallelism) }));

    /// <summary>Logs fitting to <paramref name="loggerFactory"/>.</summary>
    public TBuilder WithLogging(ILoggerFactory loggerFactory) => Set((TOptions)(Options with { LoggerFactory = loggerFactory }));

    /// <summary>Validates the options and creates an untrained quantizer.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">An option is invalid; the exception names it.</exception>
    public abstract TQuantizer Build();

    /// <summary>Replaces the options and returns the builder.</summary>
    private protected TBuilder Set(TOptions options)
    {
        Options = options;
        return (TBuilder)this;
    }
}
