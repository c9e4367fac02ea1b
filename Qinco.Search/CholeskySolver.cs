using System;
using System.Numerics.Tensors;
using System.Threading;

namespace Qinco.Search;

/// <summary>Dense symmetric positive-definite solves in double precision (the normal equations of ALGORITHM.md §4.1).</summary>
internal static class CholeskySolver
{
    /// <summary>
    /// Replaces the lower triangle of <c>G + ridge·I</c> (row-major [n, n]; only entries j ≤ i are read) by its
    /// Cholesky factor L (G = L·Lᵀ), row by row with contiguous dot products. A pivot that rounding leaves below the
    /// ridge (a direction G does not constrain) is set to the ridge, so the solve gives it a zero component.
    /// </summary>
    public static void FactorInPlace(double[] g, int n, double ridge, CancellationToken cancellationToken)
    {
        if (!(ridge > 0))
        {
            ridge = double.Epsilon;
        }
        for (int i = 0; i < n; i++)
        {
            if ((i & 63) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            Span<double> rowI = g.AsSpan((int)((long)i * n), i + 1);
            for (int j = 0; j < i; j++)
            {
                ReadOnlySpan<double> rowJ = g.AsSpan((int)((long)j * n), j);
                double s = rowI[j] - TensorPrimitives.Dot(rowI[..j], rowJ);
                rowI[j] = s / g[((long)j * n) + j];
            }
            double diagonal = rowI[i] + ridge - TensorPrimitives.Dot(rowI[..i], rowI[..i]);
            rowI[i] = Math.Sqrt(diagonal < ridge ? ridge : diagonal);
        }
    }

    /// <summary>Solves <c>L·Lᵀ·X = B</c> in place for B [n, columns] (row-major), L from <see cref="FactorInPlace"/>.</summary>
    public static void Solve(double[] l, int n, double[] b, int columns)
    {
        // Forward: L·Z = B, row i of Z = (B_i − Σ_{j<i} L_ij Z_j) / L_ii.
        for (int i = 0; i < n; i++)
        {
            Span<double> bi = b.AsSpan(i * columns, columns);
            long rowStart = (long)i * n;
            for (int j = 0; j < i; j++)
            {
                double lij = l[rowStart + j];
                if (lij != 0)
                {
                    TensorPrimitives.MultiplyAdd(b.AsSpan(j * columns, columns), -lij, bi, bi);
                }
            }
            TensorPrimitives.Divide(bi, l[rowStart + i], bi);
        }
        // Backward: Lᵀ·X = Z; once X_j is final, remove its contribution L_ji·X_j from every earlier row.
        for (int j = n - 1; j >= 0; j--)
        {
            Span<double> xj = b.AsSpan(j * columns, columns);
            long rowStart = (long)j * n;
            TensorPrimitives.Divide(xj, l[rowStart + j], xj);
            for (int i = 0; i < j; i++)
            {
                double lji = l[rowStart + i];
                if (lji != 0)
                {
                    Span<double> bi = b.AsSpan(i * columns, columns);
                    TensorPrimitives.MultiplyAdd(xj, -lji, bi, bi);
                }
            }
        }
    }
}
