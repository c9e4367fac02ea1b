using System;

namespace Qinco.Core.Numerics;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014; the generator Faiss uses for its fast subsampling): a tiny, fully
/// specified 64-bit pseudo-random generator. Its sequence is part of the library's reproducibility contract (k-means
/// subsampling and initialisation), unlike <see cref="Random"/>, whose algorithm .NET does not specify.
/// </summary>
/// <remarks>
/// State update <c>s += 0x9E3779B97F4A7C15</c>; output <c>z = s; z = (z ^ (z &gt;&gt; 30)) * 0xBF58476D1CE4E5B9;
/// z = (z ^ (z &gt;&gt; 27)) * 0x94D049BB133111EB; z ^ (z &gt;&gt; 31)</c>. A mutable struct: pass it by
/// <c>ref</c>. Not cryptographically secure.
/// </remarks>
public struct SplitMix64
{
    private ulong _state;

    /// <summary>Starts a sequence from <paramref name="seed"/> (the initial state).</summary>
    /// <param name="seed">Any value; equal seeds give equal sequences.</param>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in <c>[0, bound)</c>, unbiased (Lemire's multiply-and-reject method).</summary>
    /// <param name="bound">Exclusive upper bound, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is below 1.</exception>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        ulong b = (ulong)bound;
        while (true)
        {
            ulong r = NextUInt64() >> 32;
            ulong m = r * b;
            if ((uint)m >= (uint)((0x1_0000_0000UL - b) % b))
            {
                return (int)(m >> 32);
            }
        }
    }

    /// <summary>A uniform double in <c>[0, 1)</c> from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// Writes to <paramref name="destination"/> the first <c>destination.Length</c> entries of a uniformly random
    /// permutation of <c>0 .. n-1</c> (a partial Fisher-Yates shuffle; the entries are distinct).
    /// </summary>
    /// <param name="n">Size of the permuted range.</param>
    /// <param name="scratch">At least <paramref name="n"/> ints of scratch (overwritten).</param>
    /// <param name="destination">Receives the sample; at most <paramref name="n"/> long.</param>
    /// <exception cref="ArgumentException">The scratch is too short or the destination longer than <paramref name="n"/>.</exception>
    public void SampleWithoutReplacement(int n, Span<int> scratch, Span<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (scratch.Length < n)
        {
            throw new ArgumentException($"The scratch holds {scratch.Length} ints; {n} are needed.", nameof(scratch));
        }
        if (destination.Length > n)
        {
            throw new ArgumentException($"Cannot draw {destination.Length} distinct values from {n}.", nameof(destination));
        }
        for (int i = 0; i < n; i++)
        {
            scratch[i] = i;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            int j = i + NextInt(n - i);
            (scratch[i], scratch[j]) = (scratch[j], scratch[i]);
            destination[i] = scratch[i];
        }
    }
}
