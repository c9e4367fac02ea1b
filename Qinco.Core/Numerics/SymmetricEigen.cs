using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;

namespace Qinco.Core.Numerics;

/// <summary>Eigen-decomposition of dense symmetric matrices in double precision.</summary>
/// <remarks>
/// <para><b>Algorithm.</b> Householder reduction to tridiagonal form <c>A = Q T Qᵀ</c> (the reflectors accumulated
/// into Q), then the implicit QL algorithm with Wilkinson shifts on T; its Givens rotations are recorded and applied
/// to Q in batches, one cache-sized block of columns at a time, so Q streams through memory once per batch instead
/// of once per QL sweep. Cost about <c>(8/3 + 6) d³</c> flops, against 10-40 Jacobi sweeps of <c>4 d³</c> each
/// (ALGORITHM.md §6.2: the progressive-dimension k-means fits a PCA at every RQ step).</para>
/// <para><b>Determinism.</b> Every dot product is summed in 8 interleaved lanes combined in a fixed order, and every
/// other operation is element-wise without fused multiply-add, so the results are bit-identical for any SIMD width
/// (kernel variant) and any thread count.</para>
/// </remarks>
public static class SymmetricEigen
{
    /// <summary>Columns of Q per block when a batch of rotations is applied (a block of every row stays in cache).</summary>
    private const int RotationBlock = 64;

    /// <summary>Rows of W per block while the reflectors are accumulated (32 rows of 1,024 doubles: 256 KiB, in L2).</summary>
    private const int ReflectorRowBlock = 32;

    /// <summary>
    /// Eigenvalues and eigenvectors of the symmetric <c>[d, d]</c> matrix <paramref name="matrix"/>. Accurate to a
    /// small multiple of machine precision relative to the largest eigenvalue magnitude.
    /// </summary>
    /// <param name="matrix">Shape: [d, d], row-major; only symmetry is assumed (the upper triangle is read).</param>
    /// <param name="d">Order of the matrix, at least 1.</param>
    /// <param name="eigenvalues">Shape: [d]; receives the eigenvalues sorted descending.</param>
    /// <param name="eigenvectors">Shape: [d, d]; row <c>i</c> receives the unit eigenvector of <c>eigenvalues[i]</c>,
    /// signed so that its component of largest magnitude is positive (the first such on ties).</param>
    /// <param name="maxDegreeOfParallelism">Threads; -1 (default) for all processors. Results do not depend on it.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs, or the matrix holds NaN or infinity.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="d"/> is below 1, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    /// <exception cref="InvalidOperationException">The QL iteration did not converge (not expected for finite input).</exception>
    public static void Decompose(ReadOnlySpan<double> matrix, int d, Span<double> eigenvalues, Span<double> eigenvectors, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        Distances.CheckParallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));
        long size = (long)d * d;
        if (matrix.Length < size)
        {
            throw new ArgumentException($"The matrix holds {matrix.Length} values; [{d}, {d}] needs {size}.", nameof(matrix));
        }
        if (eigenvalues.Length < d)
        {
            throw new ArgumentException($"The eigenvalue span holds {eigenvalues.Length} values; {d} are needed.", nameof(eigenvalues));
        }
        if (eigenvectors.Length < size)
        {
            throw new ArgumentException($"The eigenvector span holds {eigenvectors.Length} values; [{d}, {d}] needs {size}.", nameof(eigenvectors));
        }

        // a: full symmetric working copy, symmetrised from the upper triangle.
        double[] a = new double[size];
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                double x = matrix[i * d + j];
                if (!double.IsFinite(x))
                {
                    throw new ArgumentException($"Entry ({i}, {j}) is {x}: the matrix must be finite.", nameof(matrix));
                }
                a[(long)i * d + j] = x;
                a[(long)j * d + i] = x;
            }
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        var diagonal = new double[d];
        var offDiagonal = new double[d];
        var scales = new double[d];
        KernelVariant variant = Kernels.Active;
        Tridiagonalise(a, d, diagonal, offDiagonal, scales, options, variant);
        double[] q = AccumulateReflectors(a, d, scales, options, variant);
        QlImplicit(diagonal, offDiagonal, q, d, options, variant);
        SortAndSign(diagonal, q, d, eigenvalues, eigenvectors);
    }

    /// <summary>
    /// Householder reduction of the full symmetric <paramref name="a"/>, last row first: step <c>i</c> zeroes
    /// <c>a[i, 0..i-2]</c> with the reflector <c>H = I - u uᵀ / h</c>, kept in row <c>i</c> (u) and
    /// <paramref name="scales"/>[i] (h; 0 for none). Receives T's diagonal and its sub-diagonal (<c>off[i]</c> couples
    /// rows i-1 and i).
    /// </summary>
    /// <remarks>
    /// The product <c>p = A u / h</c> that step <c>i - 1</c> needs is taken row by row while step <c>i</c>'s rank-two
    /// update has the row in cache, so the shrinking block streams through memory once per step instead of twice; each
    /// value is computed exactly as by separate passes.
    /// </remarks>
    private static void Tridiagonalise(double[] a, int d, double[] diagonal, double[] off, double[] scales, ParallelOptions options, KernelVariant variant)
    {
        var p = new double[d];
        var pNext = new double[d];
        int prepared = -1; // the row whose reflector PrepareReflector has already formed
        bool productReady = false; // p holds A u / h for that reflector
        for (int i = d - 1; i >= 1; i--)
        {
            double h = prepared == i ? scales[i] : PrepareReflector(a, d, i, off, scales, variant);
            if (h == 0)
            {
                productReady = false;
                continue;
            }
            double[] pCurrent = p;
            int uStart = i * d, n = i;
            if (!productReady || prepared != i)
            {
                ForRows(n, options, j => pCurrent[j] = Lanes.Dot(a.AsSpan(j * d, n), a.AsSpan(uStart, n), variant) / h);
            }
            ReadOnlySpan<double> u = a.AsSpan(uStart, n);
            double kappa = Lanes.Dot(u, p.AsSpan(0, n), variant) / (h + h);
            for (int k = 0; k < n; k++)
            {
                p[k] -= kappa * u[k];
            }

            // A -= u pᵀ + p uᵀ on the leading n x n block: row n - 1 first, because the next reflector is formed from
            // it; then the other rows, each followed by its entry of the next step's product.
            Lanes.SubtractRankTwo(a.AsSpan((n - 1) * d, n), a[uStart + n - 1], p.AsSpan(0, n), p[n - 1], u, variant);
            int next = n - 1;
            double hNext = next >= 1 ? PrepareReflector(a, d, next, off, scales, variant) : 0;
            prepared = next;
            double[] pOut = pNext;
            if (hNext == 0)
            {
                ForRows(n - 1, options, j => Lanes.SubtractRankTwo(a.AsSpan(j * d, n), a[uStart + j], pCurrent.AsSpan(0, n), pCurrent[j], a.AsSpan(uStart, n), variant));
                productReady = false;
            }
            else
            {
                int nextStart = next * d;
                ForRows(n - 1, options, j =>
                {
                    Span<double> row = a.AsSpan(j * d, n);
                    Lanes.SubtractRankTwo(row, a[uStart + j], pCurrent.AsSpan(0, n), pCurrent[j], a.AsSpan(uStart, n), variant);
                    pOut[j] = Lanes.Dot(row[..next], a.AsSpan(nextStart, next), variant) / hNext;
                });
                (p, pNext) = (pNext, p);
                productReady = true;
            }
        }
        for (int i = 0; i < d; i++)
        {
            diagonal[i] = a[(long)i * d + i];
        }
    }

    /// <summary>
    /// Forms the reflector of row <paramref name="i"/> in place (u in <c>a[i, 0..i-1]</c>, h in
    /// <paramref name="scales"/>[i]) and T's coupling <c>off[i]</c>; returns h, or 0 when the row needs none.
    /// </summary>
    private static double PrepareReflector(double[] a, int d, int i, double[] off, double[] scales, KernelVariant variant)
    {
        Span<double> u = a.AsSpan(i * d, i);
        if (i == 1)
        {
            off[i] = u[0];
            return 0;
        }
        double scale = 0;
        for (int k = 0; k < i; k++)
        {
            scale += Math.Abs(u[k]);
        }
        if (scale == 0)
        {
            off[i] = u[i - 1];
            return 0;
        }
        for (int k = 0; k < i; k++)
        {
            u[k] /= scale;
        }
        double sigma = Lanes.Dot(u, u, variant);
        double f = u[i - 1];
        double g = f >= 0 ? -Math.Sqrt(sigma) : Math.Sqrt(sigma);
        off[i] = scale * g;
        double h = sigma - f * g;
        u[i - 1] = f - g;
        scales[i] = h;
        return h;
    }

    /// <summary>
    /// Qᵀ = H_2 H_3 ... H_{d-1} (row-major, so row j is Q's column j): the reflectors of <see cref="Tridiagonalise"/>
    /// multiplied from the smallest, each touching only the leading block its vector spans.
    /// </summary>
    /// <remarks>
    /// A row of W changes only through its own dot product with each reflector, so rows are independent: a block of
    /// <see cref="ReflectorRowBlock"/> rows stays in cache while every reflector streams past it once (the same
    /// operations per row, in the same order, as applying each reflector to all rows in turn).
    /// </remarks>
    private static double[] AccumulateReflectors(double[] a, int d, double[] scales, ParallelOptions options, KernelVariant variant)
    {
        var w = new double[(long)d * d];
        for (int i = 0; i < d; i++)
        {
            w[(long)i * d + i] = 1;
        }
        int blocks = (d + ReflectorRowBlock - 1) / ReflectorRowBlock;
        void ApplyToBlock(int block)
        {
            int r0 = block * ReflectorRowBlock, r1 = Math.Min(d, r0 + ReflectorRowBlock);
            for (int i = Math.Max(2, r0 + 1); i < d; i++)
            {
                double h = scales[i];
                if (h == 0)
                {
                    continue;
                }
                ReadOnlySpan<double> u = a.AsSpan(i * d, i);
                int rows = Math.Min(r1, i);
                for (int r = r0; r < rows; r++)
                {
                    // W <- W H_i on rows 0..i-1 (rows >= i are unit vectors outside the block): w_r -= ((w_r . u) / h) u.
                    Span<double> row = w.AsSpan(r * d, i);
                    Lanes.SubtractScaled(row, Lanes.Dot(row, u, variant) / h, u, variant);
                }
            }
        }
        if (blocks == 1 || d < 256 || options.MaxDegreeOfParallelism == 1)
        {
            for (int b = 0; b < blocks; b++)
            {
                ApplyToBlock(b);
            }
        }
        else
        {
            Parallel.For(0, blocks, options, ApplyToBlock);
        }
        return w;
    }

    /// <summary>
    /// Implicit QL with Wilkinson shifts on the tridiagonal (<paramref name="diagonal"/>, <paramref name="off"/>);
    /// each rotation of coordinates (i, i+1) is applied to rows i and i+1 of <paramref name="q"/>. Overwrites the
    /// diagonal with the eigenvalues (unsorted).
    /// </summary>
    private static void QlImplicit(double[] diagonal, double[] off, double[] q, int d, ParallelOptions options, KernelVariant variant)
    {
        // e[i] couples i and i+1.
        var e = new double[d];
        for (int i = 1; i < d; i++)
        {
            e[i - 1] = off[i];
        }
        var log = new RotationLog(q, d, options, variant);
        double norm = 0;
        for (int l = 0; l < d; l++)
        {
            norm = Math.Max(norm, Math.Abs(diagonal[l]) + Math.Abs(e[l]));
            int iterations = 0;
            while (true)
            {
                int m = l;
                for (; m < d - 1; m++)
                {
                    if (Math.Abs(e[m]) <= double.Epsilon || norm + Math.Abs(e[m]) == norm)
                    {
                        break;
                    }
                }
                if (m == l)
                {
                    break;
                }
                if (++iterations > 60)
                {
                    throw new InvalidOperationException($"The QL iteration did not converge for eigenvalue {l} of a {d} x {d} matrix.");
                }
                double g = (diagonal[l + 1] - diagonal[l]) / (2 * e[l]);
                double r = Hypot(g, 1);
                g = diagonal[m] - diagonal[l] + e[l] / (g + (g >= 0 ? r : -r));
                double s = 1, c = 1, p = 0;
                int i = m - 1;
                log.Begin(m);
                bool underflow = false;
                for (; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    r = Hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0)
                    {
                        diagonal[i + 1] -= p;
                        e[m] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = diagonal[i + 1] - p;
                    r = (diagonal[i] - g) * s + 2 * c * b;
                    p = s * r;
                    diagonal[i + 1] = g + p;
                    g = c * r - b;
                    log.Add(c, s);
                }
                log.End();
                if (underflow)
                {
                    continue;
                }
                diagonal[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        }
        log.Flush();
    }

    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        if (ax < ay)
        {
            (ax, ay) = (ay, ax);
        }
        if (ax == 0)
        {
            return 0;
        }
        double t = ay / ax;
        return ax * Math.Sqrt(1 + t * t);
    }

    private static void SortAndSign(double[] values, double[] q, int d, Span<double> eigenvalues, Span<double> eigenvectors)
    {
        // Descending; ties keep the order of the QL output.
        int[] order = new int[d];
        for (int i = 0; i < d; i++)
        {
            order[i] = i;
        }
        Array.Sort(order, (x, y) => values[y] != values[x] ? values[y].CompareTo(values[x]) : x.CompareTo(y));
        for (int i = 0; i < d; i++)
        {
            int row = order[i];
            eigenvalues[i] = values[row];
            ReadOnlySpan<double> v = q.AsSpan((int)((long)row * d), d);
            int argMax = 0;
            for (int r = 1; r < d; r++)
            {
                if (Math.Abs(v[r]) > Math.Abs(v[argMax]))
                {
                    argMax = r;
                }
            }
            double sign = v[argMax] < 0 ? -1 : 1;
            Span<double> target = eigenvectors.Slice((int)((long)i * d), d);
            for (int r = 0; r < d; r++)
            {
                target[r] = sign * v[r];
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> for rows 0..n-1, in parallel chunks when the block is large enough to pay for it.</summary>
    private static void ForRows(int n, ParallelOptions options, Action<int> body)
    {
        if (n < 256 || options.MaxDegreeOfParallelism == 1)
        {
            for (int j = 0; j < n; j++)
            {
                body(j);
            }
            return;
        }
        const int Chunk = 32;
        Parallel.For(0, (n + Chunk - 1) / Chunk, options, c =>
        {
            int end = Math.Min(n, (c + 1) * Chunk);
            for (int j = c * Chunk; j < end; j++)
            {
                body(j);
            }
        });
    }

    /// <summary>
    /// The Givens rotations of QL sweeps, recorded in order and applied to Q in batches: one block of
    /// <see cref="RotationBlock"/> columns of every row at a time, for all recorded sweeps, so the block stays in cache.
    /// </summary>
    private sealed class RotationLog(double[] q, int d, ParallelOptions options, KernelVariant variant)
    {
        private readonly List<(int Top, int Start, int Count)> _sweeps = [];
        private readonly int _budget = Math.Max(4096, 64 * d);
        private double[] _rotations = new double[2 * Math.Max(4096, 64 * d)];
        private int _count;
        private int _top;
        private int _start;

        /// <summary>Starts a sweep whose first rotation acts on rows (top - 1, top), the next on (top - 2, top - 1), ...</summary>
        public void Begin(int top)
        {
            _top = top;
            _start = _count;
        }

        public void Add(double c, double s)
        {
            if (2 * (_count + 1) > _rotations.Length)
            {
                Array.Resize(ref _rotations, 2 * _rotations.Length);
            }
            _rotations[2 * _count] = c;
            _rotations[2 * _count + 1] = s;
            _count++;
        }

        public void End()
        {
            if (_count > _start)
            {
                _sweeps.Add((_top, _start, _count - _start));
            }
            if (_count >= _budget)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_count == 0)
            {
                return;
            }
            int blocks = (d + RotationBlock - 1) / RotationBlock;
            if (blocks == 1 || options.MaxDegreeOfParallelism == 1 || (long)_count * d < 1 << 20)
            {
                for (int b = 0; b < blocks; b++)
                {
                    ApplyBlock(b);
                }
            }
            else
            {
                Parallel.For(0, blocks, options, ApplyBlock);
            }
            _sweeps.Clear();
            _count = 0;
        }

        private void ApplyBlock(int block)
        {
            int c0 = block * RotationBlock, width = Math.Min(RotationBlock, d - c0);
            foreach ((int top, int start, int count) in _sweeps)
            {
                int k = 0;
                if (variant >= KernelVariant.Vector512)
                {
                    for (; k <= width - 64; k += 64)
                    {
                        Sweep512x8(c0 + k, top, start, count);
                    }
                    k = SweepChunks<Vector512DoubleOps, Vector512<double>>(k, c0, width, top, start, count);
                }
                if (variant >= KernelVariant.Vector256)
                {
                    k = SweepChunks<Vector256DoubleOps, Vector256<double>>(k, c0, width, top, start, count);
                }
                if (variant >= KernelVariant.Vector128)
                {
                    k = SweepChunks<Vector128DoubleOps, Vector128<double>>(k, c0, width, top, start, count);
                }
                for (; k < width; k++)
                {
                    SweepScalar(c0 + k, top, start, count);
                }
            }
        }

        // A sweep's rotation t turns rows (i, i + 1), i = top - 1 - t, into (c x - s y, s x + c y) with x = row i and
        // y = row i + 1. Row i + 1 is final after it (the next rotation acts on rows i - 1 and i), so a column chunk
        // walks down the sweep carrying row i's new value in registers: one load and one store per rotation instead
        // of two each, with the same operations per element as rotating the two rows in memory.

        private void Sweep512x8(int column, int top, int start, int count)
        {
            ref double q0 = ref MemoryMarshal.GetArrayDataReference(q);
            ref double row = ref Unsafe.Add(ref q0, (nint)((long)top * d + column));
            Vector512<double> c0 = Vector512.LoadUnsafe(ref row, 0), c1 = Vector512.LoadUnsafe(ref row, 8);
            Vector512<double> c2 = Vector512.LoadUnsafe(ref row, 16), c3 = Vector512.LoadUnsafe(ref row, 24);
            Vector512<double> c4 = Vector512.LoadUnsafe(ref row, 32), c5 = Vector512.LoadUnsafe(ref row, 40);
            Vector512<double> c6 = Vector512.LoadUnsafe(ref row, 48), c7 = Vector512.LoadUnsafe(ref row, 56);
            for (int t = 0; t < count; t++)
            {
                ref double upper = ref row;
                row = ref Unsafe.Subtract(ref row, d);
                Vector512<double> c = Vector512.Create(_rotations[2 * (start + t)]), s = Vector512.Create(_rotations[2 * (start + t) + 1]);
                Vector512<double> x;
                x = Vector512.LoadUnsafe(ref row, 0); (s * x + c * c0).StoreUnsafe(ref upper, 0); c0 = c * x - s * c0;
                x = Vector512.LoadUnsafe(ref row, 8); (s * x + c * c1).StoreUnsafe(ref upper, 8); c1 = c * x - s * c1;
                x = Vector512.LoadUnsafe(ref row, 16); (s * x + c * c2).StoreUnsafe(ref upper, 16); c2 = c * x - s * c2;
                x = Vector512.LoadUnsafe(ref row, 24); (s * x + c * c3).StoreUnsafe(ref upper, 24); c3 = c * x - s * c3;
                x = Vector512.LoadUnsafe(ref row, 32); (s * x + c * c4).StoreUnsafe(ref upper, 32); c4 = c * x - s * c4;
                x = Vector512.LoadUnsafe(ref row, 40); (s * x + c * c5).StoreUnsafe(ref upper, 40); c5 = c * x - s * c5;
                x = Vector512.LoadUnsafe(ref row, 48); (s * x + c * c6).StoreUnsafe(ref upper, 48); c6 = c * x - s * c6;
                x = Vector512.LoadUnsafe(ref row, 56); (s * x + c * c7).StoreUnsafe(ref upper, 56); c7 = c * x - s * c7;
            }
            c0.StoreUnsafe(ref row, 0); c1.StoreUnsafe(ref row, 8); c2.StoreUnsafe(ref row, 16); c3.StoreUnsafe(ref row, 24);
            c4.StoreUnsafe(ref row, 32); c5.StoreUnsafe(ref row, 40); c6.StoreUnsafe(ref row, 48); c7.StoreUnsafe(ref row, 56);
        }

        /// <summary>Sweeps the columns from <paramref name="k"/> on in chunks of <typeparamref name="TOps"/>' width while whole chunks fit; returns where it stopped.</summary>
        private int SweepChunks<TOps, TVec>(int k, int c0, int width, int top, int start, int count)
            where TOps : struct, IDoubleOps<TVec>
            where TVec : struct
        {
            ref double q0 = ref MemoryMarshal.GetArrayDataReference(q);
            for (; k <= width - TOps.Count; k += TOps.Count)
            {
                int column = c0 + k;
                TVec carry = TOps.LoadUnsafe(ref q0, (nuint)((long)top * d + column));
                for (int t = 0; t < count; t++)
                {
                    nuint lower = (nuint)((long)(top - 1 - t) * d + column);
                    TVec c = TOps.Broadcast(_rotations[2 * (start + t)]), s = TOps.Broadcast(_rotations[2 * (start + t) + 1]);
                    TVec x = TOps.LoadUnsafe(ref q0, lower);
                    TOps.StoreUnsafe(TOps.Add(TOps.Multiply(s, x), TOps.Multiply(c, carry)), ref q0, lower + (nuint)d);
                    carry = TOps.Subtract(TOps.Multiply(c, x), TOps.Multiply(s, carry));
                }
                TOps.StoreUnsafe(carry, ref q0, (nuint)((long)(top - count) * d + column));
            }
            return k;
        }

        private void SweepScalar(int column, int top, int start, int count)
        {
            double carry = q[(long)top * d + column];
            for (int t = 0; t < count; t++)
            {
                long lower = (long)(top - 1 - t) * d + column;
                double c = _rotations[2 * (start + t)], s = _rotations[2 * (start + t) + 1];
                double x = q[lower];
                q[lower + d] = s * x + c * carry;
                carry = c * x - s * carry;
            }
            q[(long)(top - count) * d + column] = carry;
        }
    }

    /// <summary>
    /// Double-precision kernels whose results do not depend on the SIMD width: the element-wise ones use no fused
    /// multiply-add, and the dot product keeps 8 lanes (j mod 8) at every width. The variant is read once per
    /// decomposition (<see cref="Kernels.Active"/>) and passed down.
    /// </summary>
    internal static class Lanes
    {
        /// <summary>Sum of x_j y_j in 8 interleaved lanes (lane = j mod 8), combined as ((0+1)+(2+3))+((4+5)+(6+7)).</summary>
        public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y, KernelVariant variant)
        {
            int n = x.Length, j = 0;
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            Span<double> lanes = stackalloc double[8];
            if (variant >= KernelVariant.Vector512 && n >= 8)
            {
                Vector512<double> sum = Vector512<double>.Zero;
                for (; j <= n - 8; j += 8)
                {
                    sum += Vector512.LoadUnsafe(ref xr, (nuint)j) * Vector512.LoadUnsafe(ref yr, (nuint)j);
                }
                sum.CopyTo(lanes);
            }
            else if (variant >= KernelVariant.Vector256 && n >= 8)
            {
                Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                for (; j <= n - 8; j += 8)
                {
                    lo += Vector256.LoadUnsafe(ref xr, (nuint)j) * Vector256.LoadUnsafe(ref yr, (nuint)j);
                    hi += Vector256.LoadUnsafe(ref xr, (nuint)(j + 4)) * Vector256.LoadUnsafe(ref yr, (nuint)(j + 4));
                }
                lo.CopyTo(lanes);
                hi.CopyTo(lanes[4..]);
            }
            else if (variant >= KernelVariant.Vector128 && n >= 8)
            {
                Vector128<double> l0 = Vector128<double>.Zero, l1 = l0, l2 = l0, l3 = l0;
                for (; j <= n - 8; j += 8)
                {
                    l0 += Vector128.LoadUnsafe(ref xr, (nuint)j) * Vector128.LoadUnsafe(ref yr, (nuint)j);
                    l1 += Vector128.LoadUnsafe(ref xr, (nuint)(j + 2)) * Vector128.LoadUnsafe(ref yr, (nuint)(j + 2));
                    l2 += Vector128.LoadUnsafe(ref xr, (nuint)(j + 4)) * Vector128.LoadUnsafe(ref yr, (nuint)(j + 4));
                    l3 += Vector128.LoadUnsafe(ref xr, (nuint)(j + 6)) * Vector128.LoadUnsafe(ref yr, (nuint)(j + 6));
                }
                l0.CopyTo(lanes);
                l1.CopyTo(lanes[2..]);
                l2.CopyTo(lanes[4..]);
                l3.CopyTo(lanes[6..]);
            }
            else
            {
                lanes.Clear();
                for (; j <= n - 8; j += 8)
                {
                    for (int l = 0; l < 8; l++)
                    {
                        lanes[l] += x[j + l] * y[j + l];
                    }
                }
            }
            for (int l = 0; j < n; j++, l++)
            {
                lanes[l] += x[j] * y[j];
            }
            return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        }

        /// <summary>row_k -= (uj q_k + qj u_k).</summary>
        public static void SubtractRankTwo(Span<double> row, double uj, ReadOnlySpan<double> q, double qj, ReadOnlySpan<double> u, KernelVariant variant)
        {
            int n = row.Length, k = 0;
            ref double rr = ref MemoryMarshal.GetReference(row);
            ref double qr = ref MemoryMarshal.GetReference(q);
            ref double ur = ref MemoryMarshal.GetReference(u);
            if (variant >= KernelVariant.Vector512)
            {
                k = SubtractRankTwo<Vector512DoubleOps, Vector512<double>>(ref rr, uj, ref qr, qj, ref ur, k, n);
            }
            if (variant >= KernelVariant.Vector256)
            {
                k = SubtractRankTwo<Vector256DoubleOps, Vector256<double>>(ref rr, uj, ref qr, qj, ref ur, k, n);
            }
            if (variant >= KernelVariant.Vector128)
            {
                k = SubtractRankTwo<Vector128DoubleOps, Vector128<double>>(ref rr, uj, ref qr, qj, ref ur, k, n);
            }
            for (; k < n; k++)
            {
                row[k] -= uj * q[k] + qj * u[k];
            }
        }

        /// <summary>row_k -= a u_k.</summary>
        public static void SubtractScaled(Span<double> row, double a, ReadOnlySpan<double> u, KernelVariant variant)
        {
            int n = row.Length, k = 0;
            ref double rr = ref MemoryMarshal.GetReference(row);
            ref double ur = ref MemoryMarshal.GetReference(u);
            if (variant >= KernelVariant.Vector512)
            {
                k = SubtractScaled<Vector512DoubleOps, Vector512<double>>(ref rr, a, ref ur, k, n);
            }
            if (variant >= KernelVariant.Vector256)
            {
                k = SubtractScaled<Vector256DoubleOps, Vector256<double>>(ref rr, a, ref ur, k, n);
            }
            if (variant >= KernelVariant.Vector128)
            {
                k = SubtractScaled<Vector128DoubleOps, Vector128<double>>(ref rr, a, ref ur, k, n);
            }
            for (; k < n; k++)
            {
                row[k] -= a * u[k];
            }
        }

        /// <summary>The whole vectors of <see cref="SubtractRankTwo(Span{double}, double, ReadOnlySpan{double}, double, ReadOnlySpan{double}, KernelVariant)"/> from <paramref name="k"/> on; returns where it stopped.</summary>
        private static int SubtractRankTwo<TOps, TVec>(ref double row, double uj, ref double q, double qj, ref double u, int k, int n)
            where TOps : struct, IDoubleOps<TVec>
            where TVec : struct
        {
            TVec vu = TOps.Broadcast(uj), vq = TOps.Broadcast(qj);
            for (; k <= n - TOps.Count; k += TOps.Count)
            {
                TVec t = TOps.Add(TOps.Multiply(vu, TOps.LoadUnsafe(ref q, (nuint)k)), TOps.Multiply(vq, TOps.LoadUnsafe(ref u, (nuint)k)));
                TOps.StoreUnsafe(TOps.Subtract(TOps.LoadUnsafe(ref row, (nuint)k), t), ref row, (nuint)k);
            }
            return k;
        }

        /// <summary>The whole vectors of <see cref="SubtractScaled(Span{double}, double, ReadOnlySpan{double}, KernelVariant)"/> from <paramref name="k"/> on; returns where it stopped.</summary>
        private static int SubtractScaled<TOps, TVec>(ref double row, double a, ref double u, int k, int n)
            where TOps : struct, IDoubleOps<TVec>
            where TVec : struct
        {
            TVec va = TOps.Broadcast(a);
            for (; k <= n - TOps.Count; k += TOps.Count)
            {
                TOps.StoreUnsafe(TOps.Subtract(TOps.LoadUnsafe(ref row, (nuint)k), TOps.Multiply(va, TOps.LoadUnsafe(ref u, (nuint)k))), ref row, (nuint)k);
            }
            return k;
        }
    }
}
