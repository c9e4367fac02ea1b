namespace Qinco.Core.Numerics;

/// <summary>
/// op(B) of <c>C = alpha * A * op(B) + beta * C</c> packed once by <see cref="Gemm.PackB"/>, for many products with
/// <see cref="Gemm.Multiply(System.ReadOnlySpan{float}, GemmPackedB, System.Span{float}, int, float, float, int)"/>.
/// Immutable and safe to share between threads.
/// </summary>
public sealed class GemmPackedB
{
    internal GemmPackedB(float[] unpacked, float[] packed, int packedOffset, int n, int k, bool transposeB, KernelVariant variant)
    {
        Unpacked = unpacked;
        Packed = packed;
        PackedOffset = packedOffset;
        N = n;
        K = k;
        TransposeB = transposeB;
        Variant = variant;
    }

    /// <summary>Columns of op(B) and of C (the <c>n</c> of <see cref="Gemm.PackB"/>).</summary>
    public int N { get; }

    /// <summary>Rows of op(B), columns of A (the <c>k</c> of <see cref="Gemm.PackB"/>).</summary>
    public int K { get; }

    /// <summary>Whether B was stored transposed (<c>[n, k]</c>) when it was packed.</summary>
    public bool TransposeB { get; }

    /// <summary>The kernel variant B was packed for; products with this operand run with it.</summary>
    public KernelVariant Variant { get; }

    /// <summary>A copy of B as it was given, for the row path (at most four rows of A), which reads B unpacked.</summary>
    internal float[] Unpacked { get; }

    /// <summary>The packed panels, pinned, starting at <see cref="PackedOffset"/> (64-byte aligned).</summary>
    internal float[] Packed { get; }

    /// <summary>Floats from the start of <see cref="Packed"/> to the aligned start of the panels.</summary>
    internal int PackedOffset { get; }
}
