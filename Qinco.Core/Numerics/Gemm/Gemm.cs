using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qinco.Core.Numerics;

/// <summary>Single-precision general matrix multiplication on row-major spans.</summary>
public static class Gemm
{
    /// <summary>
    /// Computes <c>C = alpha * A * op(B) + beta * C</c>, where A is <paramref name="m"/> x <paramref name="k"/>,
    /// op(B) is <paramref name="k"/> x <paramref name="n"/>, and C is <paramref name="m"/> x <paramref name="n"/>,
    /// all row-major and contiguous. With <paramref name="transposeB"/> B is stored <c>[n, k]</c> (weights stored
    /// <c>[out, in]</c>, so <c>X * W^T</c>); otherwise <c>[k, n]</c>.
    /// </summary>
    /// <param name="a">Shape: [m, k].</param>
    /// <param name="b">Shape: [k, n], or [n, k] when <paramref name="transposeB"/>.</param>
    /// <param name="c">Shape: [m, n]; read when <paramref name="beta"/> is not 0.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of A, rows of op(B).</param>
    /// <param name="transposeB">Whether B is stored transposed ([n, k]).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C; 0 ignores C's contents (NaN in C does not propagate).</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors (<see cref="Environment.ProcessorCount"/>).</param>
    /// <remarks>
    /// Runs a cache-blocked, register-blocked kernel of the <see cref="Kernels.Active"/> width. Results do not depend
    /// on <paramref name="maxDegreeOfParallelism"/>: every element of C is computed by the same sequence of operations
    /// (they may differ in the last bits between kernel variants). C must not overlap A or B.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void Multiply(
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeB = false, float alpha = 1f, float beta = 0f, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckA(a.Length, m, k);
        CheckB(b.Length, n, k, transposeB);
        CheckC(c.Length, m, n);
        int threads = Threads(maxDegreeOfParallelism);
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                Run<MultiplyCall, bool>(Kernels.Active, new MultiplyCall(pa, pb, null, pc, m, n, k, transposeB, alpha, beta, threads));
            }
        }
    }

    /// <summary>
    /// Packs op(B) once, in the layout the blocked kernel of the <see cref="Kernels.Active"/> width reads, for many
    /// products <see cref="Multiply(ReadOnlySpan{float}, GemmPackedB, Span{float}, int, float, float, int)"/> with the
    /// same B: a layer's weights against batch after batch. Packing costs about one pass over B; for a small batch it
    /// is a large part of a product.
    /// </summary>
    /// <param name="b">Shape: [k, n], or [n, k] when <paramref name="transposeB"/>; copied, so later changes to it do not
    /// reach the packed operand.</param>
    /// <param name="n">Columns of op(B) (and of C).</param>
    /// <param name="k">Rows of op(B) (and columns of A).</param>
    /// <param name="transposeB">Whether B is stored transposed ([n, k]), as <see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, float, float, int)"/> takes it.</param>
    /// <param name="maxDegreeOfParallelism">Threads to pack with; -1 for all processors. The packed values do not depend on it.</param>
    /// <returns>The packed operand: immutable, safe to use from several threads at once. It holds the packed panels and a
    /// copy of B (the path for at most four rows of A reads B unpacked), about twice the size of B.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    /// <exception cref="ArgumentException"><paramref name="b"/> is shorter than its shape needs.</exception>
    public static GemmPackedB PackB(ReadOnlySpan<float> b, int n, int k, bool transposeB = false, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckB(b.Length, n, k, transposeB);
        int threads = Threads(maxDegreeOfParallelism);
        KernelVariant variant = Kernels.Active;
        float[] copy = b[..(n * k)].ToArray();
        if (n == 0 || k == 0)
        {
            return new GemmPackedB(copy, [], 0, n, k, transposeB, variant);
        }
        unsafe
        {
            fixed (float* pb = copy)
            {
                (float[] packed, int offset) = Run<PackCall, (float[], int)>(variant, new PackCall(pb, n, k, transposeB, threads));
                return new GemmPackedB(copy, packed, offset, n, k, transposeB, variant);
            }
        }
    }

    /// <summary>
    /// Packs new values of B into <paramref name="target"/> (same shape, same kernel variant), reusing its arrays: for
    /// weights that change every optimiser step, so training packs once per step and allocates nothing.
    /// </summary>
    /// <param name="target">A packed operand from <see cref="PackB"/>.</param>
    /// <param name="b">Shape: as <paramref name="target"/>'s B ([N, K] when transposed, else [K, N]).</param>
    /// <param name="maxDegreeOfParallelism">Threads to pack with; -1 for all processors.</param>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="b"/> is shorter than the shape needs.</exception>
    public static void Repack(GemmPackedB target, ReadOnlySpan<float> b, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(target);
        CheckB(b.Length, target.N, target.K, target.TransposeB);
        int threads = Threads(maxDegreeOfParallelism);
        b[..target.Unpacked.Length].CopyTo(target.Unpacked);
        if (target.Packed.Length == 0)
        {
            return;
        }
        unsafe
        {
            fixed (float* pb = target.Unpacked, pPacked = target.Packed)
            {
                Run<RepackCall, bool>(target.Variant, new RepackCall(pb, target.N, target.K, target.TransposeB, pPacked + target.PackedOffset, threads));
            }
        }
    }

    /// <summary>
    /// Computes <c>C = alpha * A * op(B) + beta * C</c> with op(B) packed by <see cref="PackB"/>: bit for bit what
    /// <see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, float, float, int)"/>
    /// gives for the same operands with the kernel variant B was packed with, without packing B again.
    /// </summary>
    /// <param name="a">Shape: [m, b.K].</param>
    /// <param name="b">op(B), <c>[b.K, b.N]</c>, packed by <see cref="PackB"/>.</param>
    /// <param name="c">Shape: [m, b.N]; read when <paramref name="beta"/> is not 0.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C; 0 ignores C's contents (NaN in C does not propagate).</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors. Results do not depend on it.</param>
    /// <remarks>Runs with <see cref="GemmPackedB.Variant"/>, whatever <see cref="Kernels.Active"/> is now: the packed layout belongs to that variant's kernel. C must not overlap A.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="b"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> is negative, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void Multiply(
        ReadOnlySpan<float> a, GemmPackedB b, Span<float> c, int m, float alpha = 1f, float beta = 0f, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        int n = b.N, k = b.K;
        CheckA(a.Length, m, k);
        CheckC(c.Length, m, n);
        int threads = Threads(maxDegreeOfParallelism);
        unsafe
        {
            fixed (float* pa = a, pb = b.Unpacked, pPacked = b.Packed, pc = c)
            {
                var call = new MultiplyCall(pa, pb, pPacked + b.PackedOffset, pc, m, n, k, b.TransposeB, alpha, beta, threads);
                Run<MultiplyCall, bool>(b.Variant, call);
            }
        }
    }

    private static int Threads(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use -1 (all processors) or a positive thread count.");
        }
        return maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;
    }

    private static void CheckA(int length, int m, int k)
    {
        if (length < (long)m * k) throw new ArgumentException($"A holds {length} floats; [{m}, {k}] needs {(long)m * k}.", "a");
    }

    private static void CheckB(int length, int n, int k, bool transposeB)
    {
        if (length < (long)k * n) throw new ArgumentException($"B holds {length} floats; {(transposeB ? $"[{n}, {k}]" : $"[{k}, {n}]")} needs {(long)k * n}.", "b");
    }

    private static void CheckC(int length, int m, int n)
    {
        if (length < (long)m * n) throw new ArgumentException($"C holds {length} floats; [{m}, {n}] needs {(long)m * n}.", "c");
    }

    /// <summary>
    /// The one place a variant becomes a kernel: runs <paramref name="action"/> with the micro-kernel and the vector
    /// operations of one width.
    /// </summary>
    private static TResult Run<TAction, TResult>(KernelVariant variant, TAction action)
        where TAction : struct, IGemmAction<TResult>
    {
        switch (variant)
        {
            case KernelVariant.Vector512 when Sgemm512Kernel.IsSupported:
                return action.Run<Sgemm512Kernel, Vector512Ops, Vector512<float>>();
            case KernelVariant.Vector512 or KernelVariant.Vector256 when Sgemm256Kernel.IsSupported:
                return action.Run<Sgemm256Kernel, Vector256Ops, Vector256<float>>();
            case KernelVariant.Vector512 or KernelVariant.Vector256 or KernelVariant.Vector128 when Sgemm128Kernel.IsSupported:
                return action.Run<Sgemm128Kernel, Vector128Ops, Vector128<float>>();
            default:
                return action.Run<SgemmScalarKernel, ScalarOps, float>();
        }
    }

    /// <summary>A GEMM step bound to its arguments, run by <see cref="Run"/> with one width's kernels.</summary>
    private interface IGemmAction<TResult>
    {
        TResult Run<TKernel, TOps, TVec>()
            where TKernel : struct, ISgemmMicroKernel
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct;
    }

    /// <summary>
    /// A product: few rows of A (at most <see cref="GemmRows{TOps, TVec}.MaxRows"/>) go to the unpacked row path, where
    /// packing B would cost more than the product; the rest to the blocked driver, which packs B unless
    /// <paramref name="packedB"/> holds it already.
    /// </summary>
    private readonly unsafe struct MultiplyCall(
        float* a, float* b, float* packedB, float* c, int m, int n, int k, bool transposeB, float alpha, float beta, int threads) : IGemmAction<bool>
    {
        public bool Run<TKernel, TOps, TVec>()
            where TKernel : struct, ISgemmMicroKernel
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            if (m >= 1 && m <= GemmRows<TOps, TVec>.MaxRows && n > 0 && k > 0)
            {
                GemmRows<TOps, TVec>.Multiply(a, b, c, m, n, k, transposeB, alpha, beta, threads);
            }
            else if (packedB is null || m == 0 || n == 0 || k == 0)
            {
                GemmDriver<TKernel>.Multiply(a, b, c, m, n, k, transposeB, alpha, beta, threads);
            }
            else
            {
                GemmDriver<TKernel>.MultiplyPacked(a, packedB, c, m, n, k, alpha, beta, threads);
            }
            return true;
        }
    }

    /// <summary>Packs op(B) into the aligned packed array of an existing operand.</summary>
    private readonly unsafe struct RepackCall(float* b, int n, int k, bool transposeB, float* packed, int threads) : IGemmAction<bool>
    {
        public bool Run<TKernel, TOps, TVec>()
            where TKernel : struct, ISgemmMicroKernel
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            GemmDriver<TKernel>.PackB(b, n, k, transposeB, packed, threads);
            return true;
        }
    }

    /// <summary>Packs op(B) into a new pinned array; returns it with the offset of the 64-byte aligned start.</summary>
    private readonly unsafe struct PackCall(float* b, int n, int k, bool transposeB, int threads) : IGemmAction<(float[] Packed, int Offset)>
    {
        public (float[] Packed, int Offset) Run<TKernel, TOps, TVec>()
            where TKernel : struct, ISgemmMicroKernel
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            // Pinned: the array never moves, so the aligned start found here stays aligned for every product.
            float[] packed = GC.AllocateUninitializedArray<float>(GemmDriver<TKernel>.PackedLength(n, k), pinned: true);
            float* start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(packed));
            float* aligned = GemmDriver<TKernel>.AlignUp(start);
            GemmDriver<TKernel>.PackB(b, n, k, transposeB, aligned, threads);
            return (packed, (int)(aligned - start));
        }
    }
}
