using System;
using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace Qinco.Core.Numerics;

/// <summary>
/// Squared Euclidean (L2) distances between a batch of vectors X <c>[n, d]</c> and a codebook C <c>[k, d]</c>, both
/// row-major, and the fused nearest-codeword assignment used by k-means and residual quantizers.
/// </summary>
/// <remarks>
/// <para>Two formulas are offered:</para>
/// <list type="bullet">
/// <item><description><b>Direct</b> (<see cref="SquaredL2Direct"/>): <c>sum_j (x_j - c_j)^2</c> with a SIMD kernel of
/// the width <see cref="Kernels.Active"/> selects. Well conditioned (no cancellation); the one Faiss uses for small
/// batches.</description></item>
/// <item><description><b>GEMM</b> (<see cref="SquaredL2Gemm"/>): <c>||x||^2 - 2 x.c + ||c||^2</c> through
/// <see cref="Gemm.Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, float, float, int)"/>, negative results clamped to 0. Much faster for large batches, but it loses relative
/// precision when <c>||x - c||</c> is small against <c>||x||</c> (see ALGORITHM.md 8.3.4).</description></item>
/// </list>
/// <para><see cref="SquaredL2(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, int)"/> and
/// <see cref="AssignNearest"/> choose the GEMM form when <see cref="PrefersGemm"/> says so.</para>
/// <para>Results are deterministic for a given ISA (kernel variant) and do not depend on the degree of parallelism
/// (every output row is computed by one thread, with a fixed chunking). Exact values may differ between kernel
/// variants and architectures (summation order, fused multiply-add), so exact ties may break differently across
/// ISAs; within one run ties always go to the smallest index.</para>
/// <para>Destinations must not overlap the inputs.</para>
/// </remarks>
public static class Distances
{
    /// <summary>Smallest batch size (rows of X) for which the automatic choice uses the GEMM form.</summary>
    public const int GemmMinimumRows = 32;

    /// <summary>Smallest codebook size (rows of C) for which the automatic choice uses the GEMM form.</summary>
    public const int GemmMinimumCodewords = 16;

    /// <summary>Smallest dimension for which the automatic choice uses the GEMM form.</summary>
    public const int GemmMinimumDimension = 16;

    /// <summary>Upper bound on the floats of the per-chunk distance buffer of the GEMM form (256 KiB).</summary>
    internal const int ChunkFloats = 1 << 16;

    /// <summary>Most rows of X handled by one work item.</summary>
    internal const int MaxChunkRows = 256;

    /// <summary>
    /// Whether the automatic methods use the GEMM form for this shape: at least <see cref="GemmMinimumRows"/> rows,
    /// <see cref="GemmMinimumCodewords"/> codewords and <see cref="GemmMinimumDimension"/> dimensions.
    /// </summary>
    /// <param name="n">Rows of X.</param>
    /// <param name="k">Rows of C.</param>
    /// <param name="d">Dimension.</param>
    public static bool PrefersGemm(int n, int k, int d) =>
        n >= GemmMinimumRows && k >= GemmMinimumCodewords && d >= GemmMinimumDimension;

    /// <summary>Squared L2 distance between two vectors of the same length, with the active kernel variant.</summary>
    /// <param name="a">First vector.</param>
    /// <param name="b">Second vector, as long as <paramref name="a"/>.</param>
    /// <returns><c>sum_j (a_j - b_j)^2</c>, accumulated in single precision.</returns>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The vectors have {a.Length} and {b.Length} values; they must be equally long.", nameof(b));
        }
        return SimdDispatch.Run<PairKernel, float>(new PairKernel(a, b), Kernels.Active, a.Length);
    }

    /// <summary>Squared L2 norm of every row of X.</summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="n">Rows.</param>
    /// <param name="d">Columns.</param>
    /// <param name="destination">Shape: [n]; receives <c>||x_i||^2</c>.</param>
    /// <remarks>Computed with <see cref="TensorPrimitives.SumOfSquares{T}(ReadOnlySpan{T})"/> (its own ISA dispatch).</remarks>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void RowNorms(ReadOnlySpan<float> x, int n, int d, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        CheckLength(x.Length, (long)n * d, nameof(x), "X", n, d);
        CheckLength(destination.Length, n, nameof(destination), "the destination", n, 1);
        for (int i = 0; i < n; i++)
        {
            destination[i] = TensorPrimitives.SumOfSquares(x.Slice(i * d, d));
        }
    }

    /// <summary>
    /// Squared L2 distances between every row of X and every row of C, choosing the GEMM form for large shapes
    /// (<see cref="PrefersGemm"/>) and the direct form otherwise.
    /// </summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="c">Shape: [k, d].</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="k">Rows of C.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="destination">Shape: [n, k]; receives <c>||x_i - c_j||^2</c> at <c>i * k + j</c>.</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative size, <paramref name="d"/> below 1, or a degree of parallelism that is neither -1 nor positive.</exception>
    public static void SquaredL2(
        ReadOnlySpan<float> x, ReadOnlySpan<float> c, int n, int k, int d, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        if (PrefersGemm(n, k, d))
        {
            SquaredL2Gemm(x, c, n, k, d, destination, maxDegreeOfParallelism);
        }
        else
        {
            SquaredL2Direct(x, c, n, k, d, destination, maxDegreeOfParallelism);
        }
    }

    /// <summary>Squared L2 distances with the direct form <c>sum_j (x_j - c_j)^2</c> (SIMD width from <see cref="Kernels.Active"/>).</summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="c">Shape: [k, d].</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="k">Rows of C.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="destination">Shape: [n, k].</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative size, <paramref name="d"/> below 1, or a bad degree of parallelism.</exception>
    public static unsafe void SquaredL2Direct(
        ReadOnlySpan<float> x, ReadOnlySpan<float> c, int n, int k, int d, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        ValidateBatch(x, c, n, k, d, maxDegreeOfParallelism);
        CheckLength(destination.Length, (long)n * k, nameof(destination), "the destination", n, k);
        if (n == 0 || k == 0)
        {
            return;
        }
        KernelVariant variant = Kernels.Active;
        if (maxDegreeOfParallelism == 1 || n <= MaxChunkRows)
        {
            // One chunk: no closure, no task (the encoders call this per beam in their inner loops).
            SimdDispatch.Run<DirectKernel, bool>(new DirectKernel(x[..(n * d)], c, k, d, destination, []), variant, d);
            return;
        }
        fixed (float* px = x, pc = c, pd = destination)
        {
            nint ax = (nint)px, ac = (nint)pc, ad = (nint)pd;
            ForEachChunk(n, MaxChunkRows, maxDegreeOfParallelism, (start, count) =>
            {
                var xs = new ReadOnlySpan<float>((float*)ax + (long)start * d, count * d);
                var cs = new ReadOnlySpan<float>((float*)ac, k * d);
                var ds = new Span<float>((float*)ad + (long)start * k, count * k);
                SimdDispatch.Run<DirectKernel, bool>(new DirectKernel(xs, cs, k, d, ds, []), variant, d);
            });
        }
    }

    /// <summary>
    /// Squared L2 distances with the GEMM form <c>||x||^2 - 2 x.c + ||c||^2</c>; negative results (cancellation) are
    /// clamped to 0.
    /// </summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="c">Shape: [k, d].</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="k">Rows of C.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="destination">Shape: [n, k].</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative size, <paramref name="d"/> below 1, or a bad degree of parallelism.</exception>
    public static unsafe void SquaredL2Gemm(
        ReadOnlySpan<float> x, ReadOnlySpan<float> c, int n, int k, int d, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        ValidateBatch(x, c, n, k, d, maxDegreeOfParallelism);
        CheckLength(destination.Length, (long)n * k, nameof(destination), "the destination", n, k);
        if (n == 0 || k == 0)
        {
            return;
        }
        float[] cNorms = ArrayPool<float>.Shared.Rent(k);
        try
        {
            RowNorms(c, k, d, cNorms);
            fixed (float* px = x, pc = c, pd = destination, pn = cNorms)
            {
                nint ax = (nint)px, ac = (nint)pc, ad = (nint)pd, an = (nint)pn;
                int rows = GemmChunkRows(k);
                ForEachChunk(n, rows, maxDegreeOfParallelism, (start, count) =>
                {
                    var xs = new ReadOnlySpan<float>((float*)ax + (long)start * d, count * d);
                    var cs = new ReadOnlySpan<float>((float*)ac, k * d);
                    var ds = new Span<float>((float*)ad + (long)start * k, count * k);
                    var cn = new ReadOnlySpan<float>((float*)an, k);
                    Gemm.Multiply(xs, cs, ds, count, k, d, transposeB: true, alpha: -2f, beta: 0f, maxDegreeOfParallelism: 1);
                    for (int i = 0; i < count; i++)
                    {
                        float xn = TensorPrimitives.SumOfSquares(xs.Slice(i * d, d));
                        FinishGemmRow(xn, cn, ds.Slice(i * k, k));
                    }
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(cNorms);
        }
    }

    /// <summary>
    /// For every row of X, the index of the nearest row of C (smallest squared L2 distance, ties to the smallest index)
    /// and that distance, without materialising the whole <c>[n, k]</c> distance matrix.
    /// </summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="c">Shape: [k, d], k at least 1.</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="k">Rows of C.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="labels">Shape: [n]; receives the nearest codeword of each row.</param>
    /// <param name="distances">Shape: [n]; receives the squared distance to it.</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all processors. Results do not depend on it.</param>
    /// <param name="form">Which formula to use; <see cref="DistanceForm.Auto"/> follows <see cref="PrefersGemm"/>.</param>
    /// <remarks>
    /// Rows are processed in chunks of at most 256 rows (fewer when <paramref name="k"/> is large, so that the GEMM
    /// form's scratch stays near 256 KiB per thread), in parallel over chunks. NaN distances rank after every number
    /// (see <see cref="RowSelection.ArgMin(ReadOnlySpan{float})"/>).
    /// </remarks>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative size, <paramref name="k"/> or <paramref name="d"/> below 1, or a bad degree of parallelism.</exception>
    public static unsafe void AssignNearest(
        ReadOnlySpan<float> x, ReadOnlySpan<float> c, int n, int k, int d, Span<int> labels, Span<float> distances,
        int maxDegreeOfParallelism = -1, DistanceForm form = DistanceForm.Auto)
    {
        ValidateBatch(x, c, n, k, d, maxDegreeOfParallelism);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        CheckLength(labels.Length, n, nameof(labels), "the labels", n, 1);
        CheckLength(distances.Length, n, nameof(distances), "the distances", n, 1);
        if (!Enum.IsDefined(form))
        {
            throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown distance form.");
        }
        if (n == 0)
        {
            return;
        }
        bool gemm = form == DistanceForm.Gemm || (form == DistanceForm.Auto && PrefersGemm(n, k, d));
        KernelVariant variant = Kernels.Active;
        if (gemm && k > LargeCodebook)
        {
            AssignNearestBlocked(x, c, n, k, d, labels, distances, maxDegreeOfParallelism, variant);
            return;
        }
        float[]? cNorms = null;
        try
        {
            if (gemm)
            {
                cNorms = ArrayPool<float>.Shared.Rent(k);
                RowNorms(c, k, d, cNorms);
            }
            fixed (float* px = x, pc = c, pn = cNorms, pdist = distances)
            fixed (int* pl = labels)
            {
                nint ax = (nint)px, ac = (nint)pc, an = (nint)pn, adist = (nint)pdist, al = (nint)pl;
                int rows = gemm ? GemmChunkRows(k) : MaxChunkRows;
                ForEachChunk(n, rows, maxDegreeOfParallelism, (start, count) =>
                {
                    if (gemm)
                    {
                        AssignChunkGemm((float*)ax, (float*)ac, (float*)an, k, d, start, count, (int*)al, (float*)adist, variant);
                    }
                    else
                    {
                        AssignChunkDirect((float*)ax, (float*)ac, k, d, start, count, (int*)al, (float*)adist, variant);
                    }
                });
            }
        }
        finally
        {
            if (cNorms is not null)
            {
                ArrayPool<float>.Shared.Return(cNorms);
            }
        }
    }

    private static unsafe void AssignChunkDirect(float* x, float* c, int k, int d, int start, int count, int* labels, float* distances, KernelVariant variant)
    {
        var xs = new ReadOnlySpan<float>(x + (long)start * d, count * d);
        var cs = new ReadOnlySpan<float>(c, k * d);
        var kernel = new DirectKernel(xs, cs, k, d, new Span<float>(distances + start, count), new Span<int>(labels + start, count));
        SimdDispatch.Run<DirectKernel, bool>(kernel, variant, d);
    }

    /// <summary>Codebooks larger than this (e.g. IVF centroids) are assigned by <see cref="AssignNearestBlocked"/>.</summary>
    private const int LargeCodebook = 2048;

    /// <summary>Codewords per block of <see cref="AssignNearestBlocked"/>: a [256, 4096] distance block is 4 MiB.</summary>
    private const int CodewordBlock = 4096;

    /// <summary>
    /// The GEMM-form assignment for large codebooks (coarse k-means, IVF lists): C is packed once, in blocks of
    /// <see cref="CodewordBlock"/> codewords; each chunk of 256 rows multiplies by every block and keeps a running
    /// minimum, taking a later block only when strictly better, so ties still go to the smallest index. Each distance
    /// is computed by the same operations as in the unblocked form.
    /// </summary>
    private static unsafe void AssignNearestBlocked(
        ReadOnlySpan<float> x, ReadOnlySpan<float> c, int n, int k, int d, Span<int> labels, Span<float> distances, int maxDegreeOfParallelism, KernelVariant variant)
    {
        int blocks = (k + CodewordBlock - 1) / CodewordBlock;
        var packed = new GemmPackedB[blocks];
        for (int b = 0; b < blocks; b++)
        {
            int size = Math.Min(CodewordBlock, k - (b * CodewordBlock));
            packed[b] = Gemm.PackB(c.Slice(b * CodewordBlock * d, size * d), size, d, transposeB: true, maxDegreeOfParallelism);
        }
        float[] cNorms = new float[k];
        RowNorms(c, k, d, cNorms);
        fixed (float* px = x, pdist = distances)
        fixed (int* pl = labels)
        {
            nint ax = (nint)px, adist = (nint)pdist, al = (nint)pl;
            ForEachChunk(n, MaxChunkRows, maxDegreeOfParallelism, (start, count) =>
            {
                using var lease = Pool.Lease((long)count * CodewordBlock, out float[] buffer);
                var xs = new ReadOnlySpan<float>((float*)ax + ((long)start * d), count * d);
                var best = new Span<int>((int*)al + start, count);
                var bestValue = new Span<float>((float*)adist + start, count);
                for (int b = 0; b < blocks; b++)
                {
                    int first = b * CodewordBlock, size = packed[b].N;
                    Span<float> ds = buffer.AsSpan(0, count * size);
                    Gemm.Multiply(xs, packed[b], ds, count, alpha: -2f, beta: 0f, maxDegreeOfParallelism: 1);
                    for (int i = 0; i < count; i++)
                    {
                        Span<float> row = ds.Slice(i * size, size);
                        FinishGemmRow(TensorPrimitives.SumOfSquares(xs.Slice(i * d, d)), cNorms.AsSpan(first, size), row);
                        int j = RowSelection.ArgMin(row, variant);
                        if (b == 0 || RowSelection.Precedes(row[j], bestValue[i]))
                        {
                            best[i] = first + j;
                            bestValue[i] = row[j];
                        }
                    }
                }
            });
        }
    }

    private static unsafe void AssignChunkGemm(float* x, float* c, float* cNorms, int k, int d, int start, int count, int* labels, float* distances, KernelVariant variant)
    {
        float[] buffer = ArrayPool<float>.Shared.Rent(count * k);
        try
        {
            var xs = new ReadOnlySpan<float>(x + (long)start * d, count * d);
            var cs = new ReadOnlySpan<float>(c, k * d);
            var cn = new ReadOnlySpan<float>(cNorms, k);
            Span<float> ds = buffer.AsSpan(0, count * k);
            Gemm.Multiply(xs, cs, ds, count, k, d, transposeB: true, alpha: -2f, beta: 0f, maxDegreeOfParallelism: 1);
            for (int i = 0; i < count; i++)
            {
                float xn = TensorPrimitives.SumOfSquares(xs.Slice(i * d, d));
                Span<float> row = ds.Slice(i * k, k);
                FinishGemmRow(xn, cn, row);
                int best = RowSelection.ArgMin(row, variant);
                labels[start + i] = best;
                distances[start + i] = row[best];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>row_j = max(0, (xn + row_j) + cn_j), where row holds -2 x.c.</summary>
    private static void FinishGemmRow(float xn, ReadOnlySpan<float> cn, Span<float> row)
    {
        for (int j = 0; j < row.Length; j++)
        {
            float v = xn + row[j] + cn[j];
            row[j] = v < 0f ? 0f : v;
        }
    }

    private static int GemmChunkRows(int k) => Math.Clamp(ChunkFloats / Math.Max(k, 1), 1, MaxChunkRows);

    /// <summary>Runs <paramref name="body"/> over fixed chunks of <paramref name="rows"/> rows; chunking never depends on the parallelism.</summary>
    internal static void ForEachChunk(int n, int rows, int maxDegreeOfParallelism, Action<int, int> body)
    {
        int chunks = (int)(((long)n + rows - 1) / rows);
        if (chunks <= 1 || maxDegreeOfParallelism == 1)
        {
            for (int ci = 0; ci < chunks; ci++)
            {
                int start = ci * rows;
                body(start, Math.Min(rows, n - start));
            }
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, chunks, options, ci =>
        {
            int start = ci * rows;
            body(start, Math.Min(rows, n - start));
        });
    }

    private static void ValidateBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> c, int n, int k, int d, int maxDegreeOfParallelism)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        CheckParallelism(maxDegreeOfParallelism);
        CheckLength(x.Length, (long)n * d, nameof(x), "X", n, d);
        CheckLength(c.Length, (long)k * d, nameof(c), "C", k, d);
    }

    internal static void CheckParallelism(int maxDegreeOfParallelism, string name = "maxDegreeOfParallelism")
    {
        if (maxDegreeOfParallelism != -1 && maxDegreeOfParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(name, maxDegreeOfParallelism, "The degree of parallelism must be -1 (all processors) or positive.");
        }
    }

    private static void CheckLength(int actual, long needed, string parameter, string what, int rows, int columns)
    {
        if (actual < needed)
        {
            throw new ArgumentException($"{char.ToUpperInvariant(what[0])}{what[1..]} holds {actual} values; [{rows}, {columns}] needs {needed}.", parameter);
        }
    }

    // The direct form's kernels: arguments bound for SimdDispatch, which picks the width once per call.

    private readonly ref struct PairKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> c) : ISimdKernel<float>
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly ReadOnlySpan<float> _c = c;

        public float Run<TOps, TVec>()
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct =>
            SquaredL2Driver<TOps, TVec>.Pair(ref MemoryMarshal.GetReference(_x), ref MemoryMarshal.GetReference(_c), _x.Length);
    }

    /// <summary>
    /// The direct form over a batch of <c>d</c>-long rows of X against the k rows of C: every distance, row after row
    /// (<c>[rows, k]</c>), or, given labels, only the nearest row of C to each row of X and its distance
    /// (<see cref="RowSelection.Precedes"/> order: ties to the smallest index, NaN last).
    /// </summary>
    private readonly ref struct DirectKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> c, int k, int d, Span<float> distances, Span<int> labels) : ISimdKernel<bool>
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly ReadOnlySpan<float> _c = c;
        private readonly Span<float> _distances = distances;
        private readonly Span<int> _labels = labels;

        public bool Run<TOps, TVec>()
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            ref float cRef = ref MemoryMarshal.GetReference(_c);
            for (int i = 0; i < _x.Length / d; i++)
            {
                ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(_x), (nint)i * d);
                if (_labels.IsEmpty)
                {
                    for (int j = 0; j < k; j++)
                    {
                        _distances[(i * k) + j] = SquaredL2Driver<TOps, TVec>.Pair(ref row, ref Unsafe.Add(ref cRef, (nint)j * d), d);
                    }
                    continue;
                }
                int best = 0;
                float bestValue = SquaredL2Driver<TOps, TVec>.Pair(ref row, ref cRef, d);
                for (int j = 1; j < k; j++)
                {
                    float v = SquaredL2Driver<TOps, TVec>.Pair(ref row, ref Unsafe.Add(ref cRef, (nint)j * d), d);
                    if (RowSelection.Precedes(v, bestValue))
                    {
                        bestValue = v;
                        best = j;
                    }
                }
                _labels[i] = best;
                _distances[i] = bestValue;
            }
            return true;
        }
    }
}
