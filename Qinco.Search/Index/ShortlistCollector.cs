using System;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qinco.Search;

/// <summary>
/// The best <c>capacity</c> (distance, key) pairs offered so far: a bounded max-heap whose root is the worst kept.
/// Blocks of scanned distances are first filtered against the current threshold with SIMD compares, so that only
/// the rare distances that can enter reach the heap: the selection keeps up with the scan.
/// </summary>
/// <remarks>A full collector admits a distance only when it is strictly below the worst kept one, so the result
/// depends only on the order of the offers.</remarks>
internal sealed class ShortlistCollector
{
    private float[] _distances = [];
    private long[] _keys = [];
    private int _capacity;

    /// <summary>Pairs kept.</summary>
    public int Count { get; private set; }

    /// <summary>Kept distances (in no particular order), <see cref="Count"/> of them.</summary>
    public ReadOnlySpan<float> Distances => _distances.AsSpan(0, Count);

    /// <summary>Kept keys, matching <see cref="Distances"/>.</summary>
    public ReadOnlySpan<long> Keys => _keys.AsSpan(0, Count);

    /// <summary>Empties the collector and sets how many pairs it keeps.</summary>
    public void Reset(int capacity)
    {
        if (_distances.Length < capacity)
        {
            _distances = new float[capacity];
            _keys = new long[capacity];
        }
        _capacity = capacity;
        Count = 0;
    }

    /// <summary>Offers <c>raw[i] + offset</c> with key <c>keyBase + i</c> for every i.</summary>
    public void Offer(ReadOnlySpan<float> raw, float offset, long keyBase)
    {
        if (_capacity == 0)
        {
            return;
        }
        int i = 0;
        if (Vector256.IsHardwareAccelerated && raw.Length >= Vector256<float>.Count)
        {
            ref float start = ref MemoryMarshal.GetReference(raw);
            for (; i <= raw.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                // Stale thresholds only admit more candidates; every candidate is checked exactly in Push.
                var bound = Vector256.Create(Bound(offset));
                uint mask = Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref start, (nuint)i), bound).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    Push(raw[i + lane] + offset, keyBase + i + lane);
                }
            }
        }
        for (; i < raw.Length; i++)
        {
            float d = raw[i] + offset;
            if (Count < _capacity || d < _distances[0])
            {
                Push(d, keyBase + i);
            }
        }
    }

    /// <summary>A raw-value bound that every admissible <c>raw + offset</c> satisfies (with a margin for rounding).</summary>
    private float Bound(float offset)
    {
        if (Count < _capacity)
        {
            return float.PositiveInfinity;
        }
        float t = _distances[0] - offset;
        return t + (MathF.Abs(t) * 1e-6f) + (MathF.Abs(offset) * 1e-6f) + 1e-30f;
    }

    /// <summary>Appends while filling; once full, the kept pairs form a max-heap and a better pair replaces the root.</summary>
    private void Push(float distance, long key)
    {
        if (Count < _capacity)
        {
            _distances[Count] = distance;
            _keys[Count] = key;
            if (++Count == _capacity)
            {
                for (int at = (Count / 2) - 1; at >= 0; at--)
                {
                    SiftDown(at, _distances[at], _keys[at]);
                }
            }
            return;
        }
        if (distance < _distances[0])
        {
            SiftDown(0, distance, key);
        }
    }

    /// <summary>Places (distance, key) at <paramref name="at"/> and moves it down below every larger child.</summary>
    private void SiftDown(int at, float distance, long key)
    {
        for (int child = (2 * at) + 1; child < Count; child = (2 * at) + 1)
        {
            if (child + 1 < Count && _distances[child + 1] > _distances[child])
            {
                child++;
            }
            if (_distances[child] <= distance)
            {
                break;
            }
            (_distances[at], _keys[at]) = (_distances[child], _keys[child]);
            at = child;
        }
        (_distances[at], _keys[at]) = (distance, key);
    }
}
