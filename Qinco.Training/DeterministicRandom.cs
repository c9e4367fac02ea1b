using System;

namespace Qinco.Training;

/// <summary>
/// SplitMix64: a tiny, fully specified generator whose output never depends on the .NET version, used for the
/// per-epoch shuffles (the permutation of epoch e is a pure function of <c>Seed + e</c>).
/// </summary>
internal struct DeterministicRandom
{
    private ulong _state;

    public DeterministicRandom(long seed) => _state = unchecked((ulong)seed);

    public ulong NextUInt64()
    {
        ulong z = unchecked(_state += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, <paramref name="bound"/>), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt32(int bound)
    {
        ulong b = (ulong)bound;
        while (true)
        {
            ulong hi = Math.BigMul(NextUInt64(), b, out ulong lo);
            if (lo >= b || lo >= unchecked((0UL - b) % b))
            {
                return (int)hi;
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/> with a uniformly random permutation of 0..n−1 (Fisher–Yates).</summary>
    public void Permutation(Span<int> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = i;
        }
        for (int i = destination.Length - 1; i > 0; i--)
        {
            int j = NextInt32(i + 1);
            (destination[i], destination[j]) = (destination[j], destination[i]);
        }
    }
}
