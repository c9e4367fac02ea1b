using System;

namespace Qinco.Core.Numerics;

/// <summary>
/// The straightforward triple loop with double accumulation; the yardstick the blocked kernels are tested against.
/// Same contract as <see cref="Gemm.Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, float, float, int)"/>, without argument validation.
/// </summary>
internal static class GemmReference
{
    /// <summary>Computes <c>C = alpha * A * op(B) + beta * C</c> one element at a time, accumulating in double.</summary>
    public static void Multiply(
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeB = false, float alpha = 1f, float beta = 0f)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)a[(i * k) + p] * (transposeB ? b[(j * k) + p] : b[(p * n) + j]);
                }
                int idx = (i * n) + j;
                double scaled = alpha * sum;
                c[idx] = (float)(beta == 0f ? scaled : scaled + ((double)beta * c[idx]));
            }
        }
    }
}
