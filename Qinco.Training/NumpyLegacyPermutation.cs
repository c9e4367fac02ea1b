using System;

namespace Qinco.Training;

/// <summary>
/// The permutation NumPy's legacy <c>np.random.RandomState(seed).permutation(n)</c> returns: MT19937 seeded with
/// <c>init_genrand(seed)</c>, then a Fisher–Yates shuffle from the last position down whose indices are drawn by
/// masked rejection (<c>random_interval</c>). QINCo1's reference shuffles its training rows this way
/// (<c>RandomState(123 + epoch)</c>, ALGORITHM.md §1.8); reproducing it lets a run see the reference's exact batches.
/// </summary>
internal sealed class NumpyLegacyPermutation
{
    private const int StateLength = 624;
    private const int Shift = 397;
    private readonly uint[] _state = new uint[StateLength];
    private int _position;

    private NumpyLegacyPermutation(uint seed)
    {
        _state[0] = seed;
        for (int i = 1; i < StateLength; i++)
        {
            uint previous = _state[i - 1];
            _state[i] = unchecked((1812433253u * (previous ^ (previous >> 30))) + (uint)i);
        }
        _position = StateLength;
    }

    /// <summary>Fills <paramref name="destination"/> with <c>RandomState(seed).permutation(destination.Length)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seed"/> is negative (NumPy accepts 0..2³²−1).</exception>
    public static void Fill(long seed, Span<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seed, uint.MaxValue);
        var generator = new NumpyLegacyPermutation((uint)seed);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = i;
        }
        for (int i = destination.Length - 1; i > 0; i--)
        {
            int j = (int)generator.Interval((uint)i);
            (destination[i], destination[j]) = (destination[j], destination[i]);
        }
    }

    /// <summary>Uniform in [0, <paramref name="max"/>]: the smallest all-ones mask covering max, redrawn while above it.</summary>
    private uint Interval(uint max)
    {
        uint mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max)
        {
        }
        return value;
    }

    private uint NextUInt32()
    {
        if (_position == StateLength)
        {
            Regenerate();
        }
        uint y = _state[_position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        return y ^ (y >> 18);
    }

    private void Regenerate()
    {
        for (int i = 0; i < StateLength; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % StateLength] & 0x7FFFFFFFu);
            _state[i] = _state[(i + Shift) % StateLength] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : 0x9908B0DFu);
        }
        _position = 0;
    }
}
