using System;

namespace Qinco.Core.Numerics;

/// <summary>
/// The k best values kept sorted, worst last: an entry shifts the worse ones up (O(k) moves, but short, predictable
/// loops), which beats a heap's O(log k) data-dependent branches for the small k of beam search and needs no final sort.
/// </summary>
internal readonly struct SortedTopK : ITopKStore
{
    /// <summary>Largest k this store is used for; a heap wins beyond.</summary>
    public const int MaxK = 16;

    public static int WorstSlot(int k) => k - 1;

    public static void Fill(ReadOnlySpan<float> row, Span<int> idx, Span<float> val)
    {
        for (int j = 0; j < idx.Length; j++)
        {
            Insert(idx, val, j, row[j], j);
        }
    }

    public static void Replace(Span<int> idx, Span<float> val, float value, int index) => Insert(idx, val, idx.Length - 1, value, index);

    public static void Sort(Span<int> idx, Span<float> val)
    {
    }

    /// <summary>Puts (value, index) in its place among slots [0, slot], dropping what was in <paramref name="slot"/>.</summary>
    private static void Insert(Span<int> idx, Span<float> val, int slot, float value, int index)
    {
        int pos = slot;
        while (pos > 0 && RowSelection.Precedes(value, val[pos - 1]))
        {
            val[pos] = val[pos - 1];
            idx[pos] = idx[pos - 1];
            pos--;
        }
        val[pos] = value;
        idx[pos] = index;
    }
}
