using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qinco.Core.Numerics;

/// <summary>
/// The direct squared L2 form <c>sum_j (x_j - c_j)^2</c> of one pair of vectors, written once for every width; the
/// batch kernels of <see cref="Distances"/> loop over it.
/// </summary>
/// <remarks>
/// A vector width keeps two accumulators, adds the whole vectors in order and handles the tail with one overlapping
/// vector ending at d whose already-counted lanes are zeroed, then returns <c>Sum(acc0 + acc1)</c>. The scalar variant
/// keeps one running sum in index order. These orders fix the results bit for bit per variant; the quantizer outputs
/// pinned by BehaviourPinTests depend on them.
/// </remarks>
/// <typeparam name="TOps">The width's operator struct.</typeparam>
/// <typeparam name="TVec">The width's vector type.</typeparam>
internal static class SquaredL2Driver<TOps, TVec>
    where TOps : struct, ISimdOps<TVec>
    where TVec : struct
{
    /// <summary>Squared L2 of the length-<paramref name="d"/> vectors at <paramref name="x"/> and <paramref name="c"/>; <c>d &gt;= TOps.Count</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pair(ref float x, ref float c, int d)
    {
        if (TOps.Count == 1)
        {
            float sum = 0f;
            for (int i = 0; i < d; i++)
            {
                float diff = Unsafe.Add(ref x, i) - Unsafe.Add(ref c, i);
                sum += diff * diff;
            }
            return sum;
        }
        int w = TOps.Count;
        TVec acc0 = TOps.Broadcast(0f), acc1 = acc0;
        int p = 0;
        for (; p <= d - (2 * w); p += 2 * w)
        {
            TVec d0 = Difference(ref x, ref c, p);
            TVec d1 = Difference(ref x, ref c, p + w);
            acc0 = TOps.MultiplyAddEstimate(d0, d0, acc0);
            acc1 = TOps.MultiplyAddEstimate(d1, d1, acc1);
        }
        if (p <= d - w)
        {
            TVec d0 = Difference(ref x, ref c, p);
            acc0 = TOps.MultiplyAddEstimate(d0, d0, acc0);
            p += w;
        }
        if (p < d)
        {
            int offset = d - w;
            TVec d0 = TOps.ZeroLanesBelow(Difference(ref x, ref c, offset), p - offset);
            acc1 = TOps.MultiplyAddEstimate(d0, d0, acc1);
        }
        return TOps.Sum(TOps.Add(acc0, acc1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Difference(ref float x, ref float c, int offset) =>
        TOps.Subtract(TOps.LoadUnsafe(ref x, (nuint)offset), TOps.LoadUnsafe(ref c, (nuint)offset));
}
