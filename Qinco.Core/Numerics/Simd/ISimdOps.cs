namespace Qinco.Core.Numerics;

/// <summary>
/// The per-width float operations every SIMD driver is written against: one operator struct per width
/// (<see cref="Vector512Ops"/>, <see cref="Vector256Ops"/>, <see cref="Vector128Ops"/>, <see cref="ScalarOps"/>) and one
/// generic driver per loop shape, the TensorPrimitives layout. The members are static abstract and the drivers are
/// generic over a struct, so the JIT compiles one specialised copy per width with every operation inlined.
/// </summary>
/// <typeparam name="TVec">The vector type (<see cref="float"/> for the scalar variant).</typeparam>
internal interface ISimdOps<TVec>
    where TVec : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Loads <see cref="Count"/> floats.</summary>
    static abstract unsafe TVec Load(float* source);

    /// <summary>Loads <see cref="Count"/> floats starting <paramref name="elementOffset"/> floats after <paramref name="source"/>.</summary>
    static abstract TVec LoadUnsafe(ref float source, nuint elementOffset);

    /// <summary>Stores <see cref="Count"/> floats.</summary>
    static abstract unsafe void Store(TVec value, float* destination);

    /// <summary>Broadcasts a float to every lane.</summary>
    static abstract TVec Broadcast(float value);

    /// <summary>Lane-wise sum.</summary>
    static abstract TVec Add(TVec a, TVec b);

    /// <summary>Lane-wise difference <c>a - b</c>.</summary>
    static abstract TVec Subtract(TVec a, TVec b);

    /// <summary>Lane-wise product.</summary>
    static abstract TVec Multiply(TVec a, TVec b);

    /// <summary><c>a * b + c</c>, fused where the width's GEMM micro-kernel fuses (512 bits), else as <see cref="MultiplyAddEstimate"/>.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary><c>a * b + c</c>, fused where the hardware fuses; the scalar variant multiplies, rounds, then adds.</summary>
    static abstract TVec MultiplyAddEstimate(TVec a, TVec b, TVec c);

    /// <summary><paramref name="value"/> with the lanes below <paramref name="firstKept"/> set to 0 (the masked, overlapping last vector of a reduction).</summary>
    static abstract TVec ZeroLanesBelow(TVec value, int firstKept);

    /// <summary>
    /// Per lane, <paramref name="candidate"/> where it is strictly less than <paramref name="current"/>, else
    /// <paramref name="current"/>: a NaN candidate never replaces a number.
    /// </summary>
    static abstract TVec LesserOf(TVec candidate, TVec current);

    /// <summary>Sum of the lanes.</summary>
    static abstract float Sum(TVec value);

    /// <summary>The smallest lane; the lanes must not be NaN.</summary>
    static abstract float MinAcross(TVec value);

    /// <summary>Bit <c>i</c> set where lane <c>i</c> of <paramref name="a"/> is less than that of <paramref name="b"/> (false when either is NaN).</summary>
    static abstract ulong LessThanBits(TVec a, TVec b);

    /// <summary>Bit <c>i</c> set where lane <c>i</c> of <paramref name="a"/> equals that of <paramref name="b"/> (<c>-0 == +0</c>; false when either is NaN).</summary>
    static abstract ulong EqualBits(TVec a, TVec b);
}
