using System;

namespace Qinco.Core.Numerics;

/// <summary>
/// Where a top-k selection keeps the k best values seen so far, inside the destination slices: a max-heap
/// (<see cref="HeapTopK"/>) or a sorted array (<see cref="SortedTopK"/>).
/// </summary>
/// <remarks>
/// A row's values are offered in increasing index order, so a newcomer ranks before a kept value exactly when
/// <see cref="RowSelection.Precedes"/> says so: on equal values the kept one, with the smaller index, stays first.
/// </remarks>
internal interface ITopKStore
{
    /// <summary>The slot that holds the worst kept value, for a store of <paramref name="k"/> values.</summary>
    static abstract int WorstSlot(int k);

    /// <summary>Fills the store with the first <c>idx.Length</c> values of <paramref name="row"/>.</summary>
    static abstract void Fill(ReadOnlySpan<float> row, Span<int> idx, Span<float> val);

    /// <summary>Replaces the worst kept value by (<paramref name="value"/>, <paramref name="index"/>), which ranks before it.</summary>
    static abstract void Replace(Span<int> idx, Span<float> val, float value, int index);

    /// <summary>Leaves the kept values sorted ascending by (value, index).</summary>
    static abstract void Sort(Span<int> idx, Span<float> val);
}
