using System;

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
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors.</param>
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
        _ = maxDegreeOfParallelism;

        // Reference implementation; the blocked SIMD kernel replaces it (numeric-engine issue).
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    sum += a[i * k + p] * (transposeB ? b[j * k + p] : b[p * n + j]);
                }
                int idx = i * n + j;
                c[idx] = beta == 0f ? alpha * sum : alpha * sum + beta * c[idx];
            }
        }
    }
}
