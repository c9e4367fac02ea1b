using System;

namespace Qinco.Core;

/// <summary>How many threads a computation uses: all processors (<see cref="All"/>, the default) or a fixed count.</summary>
public readonly record struct Parallelism
{
    private readonly int _threads;

    /// <summary>A fixed number of threads (at least 1), or -1 for all processors.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public Parallelism(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism != -1 && maxDegreeOfParallelism < 1)
        {
            throw new ArgumentOutOfRangeException("MaxDegreeOfParallelism", maxDegreeOfParallelism, $"Option MaxDegreeOfParallelism = {maxDegreeOfParallelism} must be -1 (all processors) or at least 1.");
        }
        _threads = maxDegreeOfParallelism == -1 ? 0 : maxDegreeOfParallelism;
    }

    /// <summary>Every processor of the machine (<see cref="Environment.ProcessorCount"/>).</summary>
    public static Parallelism All => default;

    /// <summary>The threads to use now.</summary>
    public int Threads => _threads == 0 ? Environment.ProcessorCount : _threads;

    /// <summary>-1 for all processors, else the thread count: the convention of <see cref="System.Threading.Tasks.ParallelOptions"/>.</summary>
    public int MaxDegreeOfParallelism => _threads == 0 ? -1 : _threads;

    /// <inheritdoc/>
    public override string ToString() => _threads == 0 ? "all processors" : $"{_threads} threads";
}
