using System;

namespace Qinco.Core.Numerics;

/// <summary>Eigen-decomposition of small dense symmetric matrices in double precision.</summary>
public static class SymmetricEigen
{
    /// <summary>
    /// Eigenvalues and eigenvectors of the symmetric <c>[d, d]</c> matrix <paramref name="matrix"/> by the cyclic
    /// Jacobi method (rotations until the off-diagonal mass is below <c>1e-15</c> of the total, at most 100 sweeps).
    /// Accurate to near machine precision; O(d^3) per sweep, meant for d up to a few hundred.
    /// </summary>
    /// <param name="matrix">Shape: [d, d], row-major; only symmetry is assumed (the upper triangle is read).</param>
    /// <param name="d">Order of the matrix.</param>
    /// <param name="eigenvalues">Shape: [d]; receives the eigenvalues sorted descending.</param>
    /// <param name="eigenvectors">Shape: [d, d]; row <c>i</c> receives the unit eigenvector of <c>eigenvalues[i]</c>,
    /// signed so that its component of largest magnitude is positive (the first such on ties).</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs, or the matrix holds NaN or infinity.</exception>
    public static void Decompose(ReadOnlySpan<double> matrix, int d, Span<double> eigenvalues, Span<double> eigenvectors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        if (matrix.Length < (long)d * d)
        {
            throw new ArgumentException($"The matrix holds {matrix.Length} values; [{d}, {d}] needs {(long)d * d}.", nameof(matrix));
        }
        if (eigenvalues.Length < d)
        {
            throw new ArgumentException($"The eigenvalue span holds {eigenvalues.Length} values; {d} are needed.", nameof(eigenvalues));
        }
        if (eigenvectors.Length < (long)d * d)
        {
            throw new ArgumentException($"The eigenvector span holds {eigenvectors.Length} values; [{d}, {d}] needs {(long)d * d}.", nameof(eigenvectors));
        }

        // a: working copy (symmetrised from the upper triangle); v: columns are eigenvectors.
        double[] a = new double[d * d];
        double[] v = new double[d * d];
        double total = 0;
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                double x = matrix[i * d + j];
                if (!double.IsFinite(x))
                {
                    throw new ArgumentException($"Entry ({i}, {j}) is {x}: the matrix must be finite.", nameof(matrix));
                }
                a[i * d + j] = x;
                a[j * d + i] = x;
                total += (i == j ? 1 : 2) * x * x;
            }
            v[i * d + i] = 1;
        }

        double threshold = 1e-30 * Math.Max(total, double.Epsilon);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < d; i++)
            {
                for (int j = i + 1; j < d; j++)
                {
                    off += a[i * d + j] * a[i * d + j];
                }
            }
            if (2 * off <= threshold)
            {
                break;
            }
            for (int p = 0; p < d - 1; p++)
            {
                for (int q = p + 1; q < d; q++)
                {
                    double apq = a[p * d + q];
                    if (apq == 0)
                    {
                        continue;
                    }
                    double app = a[p * d + p], aqq = a[q * d + q];
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    // A' = J^T A J acting on rows/columns p and q.
                    for (int r = 0; r < d; r++)
                    {
                        double arp = a[r * d + p], arq = a[r * d + q];
                        a[r * d + p] = c * arp - s * arq;
                        a[r * d + q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < d; r++)
                    {
                        double apr = a[p * d + r], aqr = a[q * d + r];
                        a[p * d + r] = c * apr - s * aqr;
                        a[q * d + r] = s * apr + c * aqr;
                    }
                    a[p * d + q] = 0;
                    a[q * d + p] = 0;
                    for (int r = 0; r < d; r++)
                    {
                        double vrp = v[r * d + p], vrq = v[r * d + q];
                        v[r * d + p] = c * vrp - s * vrq;
                        v[r * d + q] = s * vrp + c * vrq;
                    }
                }
            }
        }

        // Sort descending (stable: ties keep the original column order).
        int[] order = new int[d];
        double[] diag = new double[d];
        for (int i = 0; i < d; i++)
        {
            order[i] = i;
            diag[i] = a[i * d + i];
        }
        Array.Sort(order, (x, y) => diag[y] != diag[x] ? diag[y].CompareTo(diag[x]) : x.CompareTo(y));
        for (int i = 0; i < d; i++)
        {
            int col = order[i];
            eigenvalues[i] = diag[col];
            int argMax = 0;
            for (int r = 1; r < d; r++)
            {
                if (Math.Abs(v[r * d + col]) > Math.Abs(v[argMax * d + col]))
                {
                    argMax = r;
                }
            }
            double sign = v[argMax * d + col] < 0 ? -1 : 1;
            for (int r = 0; r < d; r++)
            {
                eigenvectors[i * d + r] = sign * v[r * d + col];
            }
        }
    }
}
