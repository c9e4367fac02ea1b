using System;
using System.Runtime.CompilerServices;

namespace Qinco.Core.Numerics;

/// <summary>
/// The k best values kept as a max-heap (root = worst kept): O(log k) per entry, for large k; heap-sorted in place at
/// the end.
/// </summary>
internal readonly struct HeapTopK : ITopKStore
{
    public static int WorstSlot(int k) => 0;

    public static void Replace(Span<int> idx, Span<float> val, float value, int index) => SiftDown(idx, val, idx.Length, value, index);

    /// <summary>Sifts each of the first k values up into the heap.</summary>
    public static void Fill(ReadOnlySpan<float> row, Span<int> idx, Span<float> val)
    {
        int k = idx.Length;
        for (int j = 0; j < k; j++)
        {
            // sift up
            int pos = j;
            float v = row[j];
            while (pos > 0)
            {
                int parent = (pos - 1) >> 1;
                if (!Before(val[parent], idx[parent], v, j))
                {
                    break;
                }
                val[pos] = val[parent];
                idx[pos] = idx[parent];
                pos = parent;
            }
            val[pos] = v;
            idx[pos] = j;
        }
    }

    /// <summary>Heap sort: repeatedly moves the worst to the end, leaving the heap ascending in place.</summary>
    public static void Sort(Span<int> idx, Span<float> val)
    {
        for (int end = idx.Length - 1; end > 0; end--)
        {
            float v = val[end];
            int ix = idx[end];
            val[end] = val[0];
            idx[end] = idx[0];
            SiftDown(idx, val, end, v, ix);
        }
    }

    /// <summary>Places (v, ix) at the root of the max-heap of size <paramref name="size"/> and sifts it down.</summary>
    private static void SiftDown(Span<int> idx, Span<float> val, int size, float v, int ix)
    {
        int pos = 0;
        while (true)
        {
            int child = 2 * pos + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && Before(val[child], idx[child], val[child + 1], idx[child + 1]))
            {
                child++;
            }
            if (!Before(v, ix, val[child], idx[child]))
            {
                break;
            }
            val[pos] = val[child];
            idx[pos] = idx[child];
            pos = child;
        }
        val[pos] = v;
        idx[pos] = ix;
    }

    /// <summary>The total order on (value, index): whether (va, ia) ranks first. Kept values are compared among themselves, so indices matter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(float va, int ia, float vb, int ib)
    {
        if (va < vb)
        {
            return true;
        }
        if (vb < va)
        {
            return false;
        }
        bool naA = float.IsNaN(va), naB = float.IsNaN(vb);
        if (naA != naB)
        {
            return naB; // the non-NaN one ranks first
        }
        return ia < ib; // equal, or both NaN
    }
}
