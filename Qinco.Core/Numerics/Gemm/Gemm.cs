using System;
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
        if (a.Length < (long)m * k) throw new ArgumentException($"A holds {a.Length} floats; [{m}, {k}] needs {(long)m * k}.", nameof(a));
        if (b.Length < (long)k * n) throw new ArgumentException($"B holds {b.Length} floats; {(transposeB ? $"[{n}, {k}]" : $"[{k}, {n}]")} needs {(long)k * n}.", nameof(b));
        if (c.Length < (long)m * n) throw new ArgumentException($"C holds {c.Length} floats; [{m}, {n}] needs {(long)m * n}.", nameof(c));
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use -1 (all processors) or a positive thread count.");
        }
        int threads = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;

        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                // The one place a variant becomes a kernel: the micro-kernel and the vector operations of one width.
                switch (Kernels.Active)
                {
                    case KernelVariant.Vector512 when Sgemm512Kernel.IsSupported:
                        MultiplyWith<Sgemm512Kernel, Vector512Ops, Vector512<float>>(pa, pb, pc, m, n, k, transposeB, alpha, beta, threads);
                        break;
                    case KernelVariant.Vector512 or KernelVariant.Vector256 when Sgemm256Kernel.IsSupported:
                        MultiplyWith<Sgemm256Kernel, Vector256Ops, Vector256<float>>(pa, pb, pc, m, n, k, transposeB, alpha, beta, threads);
                        break;
                    case KernelVariant.Vector512 or KernelVariant.Vector256 or KernelVariant.Vector128 when Sgemm128Kernel.IsSupported:
                        MultiplyWith<Sgemm128Kernel, Vector128Ops, Vector128<float>>(pa, pb, pc, m, n, k, transposeB, alpha, beta, threads);
                        break;
                    default:
                        MultiplyWith<SgemmScalarKernel, ScalarOps, float>(pa, pb, pc, m, n, k, transposeB, alpha, beta, threads);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Few rows of A (at most <see cref="GemmRows{TOps, TVec}.MaxRows"/>) go to the unpacked row path, where packing B
    /// would cost more than the product; everything else to the blocked driver.
    /// </summary>
    private static unsafe void MultiplyWith<TKernel, TOps, TVec>(
        float* a, float* b, float* c, int m, int n, int k, bool transposeB, float alpha, float beta, int threads)
        where TKernel : struct, ISgemmMicroKernel
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        if (m >= 1 && m <= GemmRows<TOps, TVec>.MaxRows && n > 0 && k > 0)
        {
            GemmRows<TOps, TVec>.Multiply(a, b, c, m, n, k, transposeB, alpha, beta, threads);
        }
        else
        {
            GemmDriver<TKernel>.Multiply(a, b, c, m, n, k, transposeB, alpha, beta, threads);
        }
    }
}
