using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qinco.Core.Numerics;

/// <summary>
/// The vector loops of <see cref="RowSelection"/>, written once for every width: the arg-min of a row and the top-k
/// filter that offers a row's values to an <see cref="ITopKStore"/>. The order is RowSelection's: value, then index,
/// NaN after every number.
/// </summary>
/// <remarks>
/// Both kernels only compare values, so their results do not depend on the width; the widths differ only in how many
/// values one comparison covers. Every row must hold at least <c>TOps.Count</c> values (<see cref="SimdDispatch"/>
/// picks the width from the row length), which lets the last vector of a row overlap the one before it.
/// </remarks>
/// <typeparam name="TOps">The width's operator struct.</typeparam>
/// <typeparam name="TVec">The width's vector type.</typeparam>
internal static class RowSelectionDriver<TOps, TVec>
    where TOps : struct, ISimdOps<TVec>
    where TVec : struct
{
    /// <summary>
    /// Index of the first smallest value: one pass for the smallest number, one for where it first occurs. A NaN never
    /// wins <see cref="ISimdOps{TVec}.LesserOf"/>, so a row of NaNs leaves +infinity, found nowhere: index 0, the first
    /// NaN. <c>-0 == +0</c>, so the first zero of either sign is found, as the scalar rule picks it.
    /// </summary>
    public static int ArgMin(ReadOnlySpan<float> row)
    {
        ref float start = ref MemoryMarshal.GetReference(row);
        int n = row.Length, w = TOps.Count;
        TVec m0 = TOps.Broadcast(float.PositiveInfinity), m1 = m0, m2 = m0, m3 = m0;
        int p = 0;
        for (; p <= n - (4 * w); p += 4 * w)
        {
            m0 = TOps.LesserOf(TOps.LoadUnsafe(ref start, (nuint)p), m0);
            m1 = TOps.LesserOf(TOps.LoadUnsafe(ref start, (nuint)(p + w)), m1);
            m2 = TOps.LesserOf(TOps.LoadUnsafe(ref start, (nuint)(p + (2 * w))), m2);
            m3 = TOps.LesserOf(TOps.LoadUnsafe(ref start, (nuint)(p + (3 * w))), m3);
        }
        for (; p <= n - w; p += w)
        {
            m0 = TOps.LesserOf(TOps.LoadUnsafe(ref start, (nuint)p), m0);
        }
        if (p < n)
        {
            // The overlapping last vector: taking a minimum twice changes nothing.
            m1 = TOps.LesserOf(TOps.LoadUnsafe(ref start, (nuint)(n - w)), m1);
        }
        TVec target = TOps.Broadcast(TOps.MinAcross(TOps.LesserOf(TOps.LesserOf(m0, m1), TOps.LesserOf(m2, m3))));
        for (p = 0; p <= n - w; p += w)
        {
            ulong found = TOps.EqualBits(TOps.LoadUnsafe(ref start, (nuint)p), target);
            if (found != 0)
            {
                return p + BitOperations.TrailingZeroCount(found);
            }
        }
        if (p < n)
        {
            ulong found = TOps.EqualBits(TOps.LoadUnsafe(ref start, (nuint)(n - w)), target);
            if (found != 0)
            {
                return n - w + BitOperations.TrailingZeroCount(found);
            }
        }
        return 0;
    }

    /// <summary>
    /// The <c>k = idx.Length</c> smallest values of <paramref name="row"/> (2 &lt;= k &lt;= row length) with their
    /// indices, sorted by (value, index). The store takes the first k values; the rest are offered through a vector
    /// comparison against the worst kept value, which skips the values that cannot enter (on a long row nearly all of
    /// them once good values are kept). Each lane that might enter is checked exactly, since the worst kept value
    /// improves as values enter.
    /// </summary>
    public static void TopK<TStore>(ReadOnlySpan<float> row, Span<int> idx, Span<float> val)
        where TStore : struct, ITopKStore
    {
        TStore.Fill(row, idx, val);
        int worst = TStore.WorstSlot(idx.Length);
        ref float start = ref MemoryMarshal.GetReference(row);
        int n = row.Length, w = TOps.Count;
        int p = idx.Length;
        for (; p <= n - w; p += w)
        {
            Offer<TStore>(row, idx, val, p, Candidates(TOps.LoadUnsafe(ref start, (nuint)p), val[worst]));
        }
        if (p < n)
        {
            // The overlapping last vector, without the lanes already offered.
            int offset = n - w, done = p - offset;
            Offer<TStore>(row, idx, val, offset, Candidates(TOps.LoadUnsafe(ref start, (nuint)offset), val[worst]) >> done << done);
        }
        TStore.Sort(idx, val);
    }

    /// <summary>
    /// The lanes that may rank before the worst kept value: those below it, or, while a NaN is kept (fewer than k
    /// numbers seen), every number. An equal value never enters: its index is larger than any kept one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Candidates(TVec values, float worst) =>
        float.IsNaN(worst) ? TOps.EqualBits(values, values) : TOps.LessThanBits(values, TOps.Broadcast(worst));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Offer<TStore>(ReadOnlySpan<float> row, Span<int> idx, Span<float> val, int offset, ulong lanes)
        where TStore : struct, ITopKStore
    {
        int worst = TStore.WorstSlot(idx.Length);
        while (lanes != 0)
        {
            int j = offset + BitOperations.TrailingZeroCount(lanes);
            lanes &= lanes - 1;
            float v = row[j];
            if (RowSelection.Precedes(v, val[worst]))
            {
                TStore.Replace(idx, val, v, j);
            }
        }
    }
}
