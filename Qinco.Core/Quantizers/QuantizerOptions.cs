using Microsoft.Extensions.Logging;

namespace Qinco.Core;

/// <summary>
/// Settings every quantizer has: the vector dimension, the code shape (M steps of <see cref="CodebookBits"/> bits),
/// the seed, the threads and the logger. Validated once, when the quantizer is constructed, against
/// <see cref="QuantizerLimits"/>; an invalid value throws <see cref="System.ArgumentOutOfRangeException"/> whose
/// <see cref="System.ArgumentException.ParamName"/> is the option's name.
/// </summary>
public abstract record QuantizerOptions
{
    /// <summary>Floats per vector, 1..<see cref="QuantizerLimits.MaxDimension"/> (required).</summary>
    public int Dimension { get; init; }

    /// <summary>Number of code indices per vector, M, 1..<see cref="QuantizerLimits.MaxSteps"/> (default 8).</summary>
    public int Steps { get; init; } = 8;

    /// <summary>Bits per code index, 1..<see cref="QuantizerLimits.MaxCodebookBits"/> (default 8: K = 256 codewords per step).</summary>
    public int CodebookBits { get; init; } = 8;

    /// <summary>Seed of every random choice of fitting: k-means sampling and initialisation, layer initialisation (default 1234, as Faiss).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Threads for fitting, encoding and decoding (default: all processors).</summary>
    public Parallelism Parallelism { get; init; }

    /// <summary>Where fitting logs; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Codewords per step, K = <c>2^CodebookBits</c>.</summary>
    public int CodebookSize => 1 << CodebookBits;

    /// <summary>Throws <see cref="System.ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public virtual void Validate() => QuantizerLimits.RequireShape(Dimension, Steps, CodebookBits);
}
