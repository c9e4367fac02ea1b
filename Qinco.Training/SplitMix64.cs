using System;

namespace Qinco.Training;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014; the generator Faiss uses for its fast subsampling): a tiny, fully
/// specified 64-bit pseudo-random generator, the only one the library draws from. Its sequences are part of the
/// reproducibility contract (k-means subsampling and initialisation, PCA sampling, per-epoch shuffles), unlike
/// <see cref="Random"/>, whose algorithm .NET does not specify.
/// </summary>
/// <remarks>
/// State update <c>s += 0x9E3779B97F4A7C15</c>; output <c>z = s; z = (z ^ (z &gt;&gt; 30)) * 0xBF58476D1CE4E5B9;
/// z = (z ^ (z &gt;&gt; 27)) * 0x94D049BB133111EB; z ^ (z &gt;&gt; 31)</c>. Two bounded draws exist because results
/// recorded with each depend on its exact sequence: <see cref="NextIntFromHigh32Bits"/> (k-means, PCA) and
/// <see cref="NextIntFrom64Bits"/> (epoch shuffles). A mutable struct: pass it by <c>ref</c>. Not cryptographically
/// secure.
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
        ulong z = unchecked(_state += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A uniform integer in <c>[0, bound)</c>, unbiased, from the high 32 bits of each output: Lemire's 32-bit
    /// multiply-shift (<c>r·bound &gt;&gt; 32</c>) with rejection when the low 32 bits of the product fall below
    /// <c>(2³² − bound) mod bound</c>. Used by <see cref="SampleWithoutReplacement"/>.
    /// </summary>
    /// <param name="bound">Exclusive upper bound, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is below 1.</exception>
    public int NextIntFromHigh32Bits(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        ulong b = (ulong)bound;
        while (true)
        {
            ulong m = (NextUInt64() >> 32) * b;
            if ((uint)m >= (uint)((0x1_0000_0000UL - b) % b))
            {
                return (int)(m >> 32);
            }
        }
    }

    /// <summary>
    /// A uniform integer in <c>[0, bound)</c>, unbiased, from all 64 bits of each output: Lemire's 64-bit method (the
    /// high half of the 128-bit product <c>r·bound</c>) with rejection when the low half falls below
    /// <c>(2⁶⁴ − bound) mod bound</c>. Used by <see cref="FillPermutation"/>.
    /// </summary>
    /// <param name="bound">Exclusive upper bound, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is below 1.</exception>
    public int NextIntFrom64Bits(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        ulong b = (ulong)bound;
        while (true)
        {
            ulong high = Math.BigMul(NextUInt64(), b, out ulong low);
            if (low >= b || low >= unchecked(0UL - b) % b)
            {
                return (int)high;
            }
        }
    }

    /// <summary>A uniform double in <c>[0, 1)</c> from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// Fills <paramref name="destination"/> with a uniformly random permutation of <c>0 .. destination.Length − 1</c>:
    /// Fisher–Yates from the last position down, indices from <see cref="NextIntFrom64Bits"/>.
    /// </summary>
    /// <param name="destination">Receives the permutation; any length.</param>
    public void FillPermutation(Span<int> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = i;
        }
        for (int i = destination.Length - 1; i > 0; i--)
        {
            int j = NextIntFrom64Bits(i + 1);
            (destination[i], destination[j]) = (destination[j], destination[i]);
        }
    }

    /// <summary>
    /// Writes to <paramref name="destination"/> the first <c>destination.Length</c> entries of a uniformly random
    /// permutation of <c>0 .. n − 1</c>: a partial Fisher–Yates shuffle from the first position up, indices from
    /// <see cref="NextIntFromHigh32Bits"/>; the entries are distinct.
    /// </summary>
    /// <param name="n">Size of the permuted range, at least 0.</param>
    /// <param name="scratch">At least <paramref name="n"/> ints of scratch (overwritten).</param>
    /// <param name="destination">Receives the sample; at most <paramref name="n"/> long.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
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
            int j = i + NextIntFromHigh32Bits(n - i);
            (scratch[i], scratch[j]) = (scratch[j], scratch[i]);
            destination[i] = scratch[i];
        }
    }
}
