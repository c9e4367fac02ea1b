using System;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Qinco.Core;
using Qinco.Core.Numerics;
using Qinco.Training;

namespace Qinco.Search;

/// <summary>Options of <see cref="PairwiseDecoder.Fit"/> (ALGORITHM.md §4.4).</summary>
public sealed record PairwiseDecoderOptions
{
    /// <summary>Pairwise codebooks per code step: the decoder has <c>CodebooksPerStep · M</c> of them (default: 2, as QINCo2's config).</summary>
    public int CodebooksPerStep { get; init; } = 2;

    /// <summary>RQ stages that give each list number sub-codes usable in pairs (default: 5, as QINCo2).</summary>
    public int ListSubcodes { get; init; } = 5;

    /// <summary>Lloyd iterations per sub-code stage (default: 50, stopping early when no assignment changes).</summary>
    public int ListIterations { get; init; } = 50;

    /// <summary>
    /// The most bytes the codebooks may take (default: 1 GiB). Each is <c>65536 · D · 4</c> bytes (32 MiB at D = 128);
    /// fewer codebooks are fitted when the requested number does not fit.
    /// </summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>Seed of the sub-code k-means initialisation (default: 1234).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Threads; -1 (default) uses all processors. The result does not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        Checks.InRange(CodebooksPerStep, 1, int.MaxValue, nameof(CodebooksPerStep));
        Checks.InRange(ListSubcodes, 0, 16, nameof(ListSubcodes));
        Checks.InRange(ListIterations, 1, int.MaxValue, nameof(ListIterations));
        Checks.InRange(MaxBytes, 1, long.MaxValue, nameof(MaxBytes));
        Checks.Parallelism(MaxDegreeOfParallelism, nameof(MaxDegreeOfParallelism));
    }
}

/// <summary>
/// QINCo2's pairwise additive decoder (ALGORITHM.md §4.4): a residual reconstructs as <c>Σ_j P_j[k_{u_j}·256 + k_{v_j}]</c>
/// over codebooks indexed by pairs of code columns, where columns M.. are RQ sub-codes of the list number. Cheaper than
/// the quantizer's decoder, closer than the additive decoder: the optional middle stage of <see cref="IvfIndex"/>.
/// </summary>
/// <remarks>
/// <para>Fitting is greedy: each round picks the pair of columns whose cell means (zero for empty cells) most reduce the
/// training error over the fit rows (computed from the cell sums, <c>Σ||r||² − Σ_cells ||S_c||²/n_c</c>), stores those
/// means as the next codebook and subtracts them from the residuals. The same pair may be picked again.</para>
/// <para>Immutable and thread-safe. Memory: <see cref="Bytes"/> (≈ 537 MB for M = 8, D = 128 with 16 codebooks).</para>
/// </remarks>
public sealed class PairwiseDecoder
{
    /// <summary>Cells per pairwise codebook (256 × 256).</summary>
    public const int Cells = 65536;

    private readonly float[] _codebooks;
    private readonly int[] _pairs;
    private readonly byte[] _listCodes;

    /// <summary>Wraps a fitted decoder (arrays kept, not copied).</summary>
    /// <param name="codebooks">Shape: [J, 65536, D].</param>
    /// <param name="pairs">Shape: [J, 2]: the two columns of each codebook; column c &lt; M is code step c, c ≥ M is list sub-code c − M.</param>
    /// <param name="listCodes">Shape: [lists, S]: the sub-codes of every list number.</param>
    /// <param name="steps">M.</param>
    /// <param name="dimension">D.</param>
    /// <param name="listSubcodes">S: sub-codes per list.</param>
    /// <exception cref="ArgumentException">The shapes disagree, or a column is out of range.</exception>
    public PairwiseDecoder(float[] codebooks, int[] pairs, byte[] listCodes, int steps, int dimension, int listSubcodes)
    {
        ArgumentNullException.ThrowIfNull(codebooks);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(listCodes);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (pairs.Length == 0 || pairs.Length % 2 != 0 || codebooks.Length != (long)(pairs.Length / 2) * Cells * dimension)
        {
            throw new ArgumentException($"{pairs.Length / 2} pairs need {(long)(pairs.Length / 2) * Cells * dimension} codebook floats; got {codebooks.Length}.", nameof(codebooks));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(listSubcodes);
        int subcodes = listSubcodes;
        if (subcodes > 0 && listCodes.Length % subcodes != 0)
        {
            throw new ArgumentException($"The list sub-codes hold {listCodes.Length} bytes, not whole rows of {subcodes}.", nameof(listCodes));
        }
        int lists = subcodes == 0 ? int.MaxValue : listCodes.Length / subcodes;
        foreach (int column in pairs)
        {
            if (column < 0 || column >= steps + subcodes)
            {
                throw new ArgumentException($"Pair column {column} is outside [0, {steps + subcodes}).", nameof(pairs));
            }
        }
        (_codebooks, _pairs, _listCodes) = (codebooks, pairs, listCodes);
        (Steps, Dimension, ListSubcodes, ListCount) = (steps, dimension, subcodes, lists);
    }

    /// <summary>M.</summary>
    public int Steps { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Sub-codes per list number (S).</summary>
    public int ListSubcodes { get; }

    /// <summary>Lists whose sub-codes are known.</summary>
    public int ListCount { get; }

    /// <summary>Number of pairwise codebooks (J).</summary>
    public int CodebookCount => _pairs.Length / 2;

    /// <summary>Bytes of the codebooks.</summary>
    public long Bytes => _codebooks.LongLength * 4;

    /// <summary>Shape: [J, 65536, D].</summary>
    public ReadOnlySpan<float> Codebooks => _codebooks;

    /// <summary>Shape: [J, 2].</summary>
    public ReadOnlySpan<int> Pairs => _pairs;

    /// <summary>Shape: [lists, S].</summary>
    public ReadOnlySpan<byte> ListCodes => _listCodes;

    /// <summary>
    /// Fits the decoder to residuals <c>x − centroid[list]</c> of training vectors and their codes: sub-codes of the
    /// lists by weighted RQ k-means over the centroids (weight = training vectors per list), then greedy pairwise
    /// codebooks (ALGORITHM.md §4.4).
    /// </summary>
    /// <param name="centroids">Shape: [lists, D]: the coarse centroids.</param>
    /// <param name="residuals">Shape: [n, D].</param>
    /// <param name="lists">Shape: [n].</param>
    /// <param name="codes">n codes of M one-byte indices.</param>
    /// <param name="options">Options (default: <see cref="PairwiseDecoderOptions"/>'s).</param>
    /// <param name="cancellationToken">Checked every round.</param>
    /// <exception cref="ArgumentException">The shapes disagree or the codes are not 8-bit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An invalid option, or not one codebook fits in <see cref="PairwiseDecoderOptions.MaxBytes"/>.</exception>
    public static PairwiseDecoder Fit(ReadOnlySpan<float> centroids, ReadOnlySpan<float> residuals, ReadOnlySpan<int> lists, CodeSet codes, PairwiseDecoderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codes);
        options ??= new PairwiseDecoderOptions();
        options.Validate();
        int n = codes.Count, m = codes.Layout.Steps;
        if (codes.Layout.BitsPerStep != 8 || n == 0 || lists.Length != n || residuals.Length % n != 0)
        {
            throw new ArgumentException($"Pairwise fitting needs n > 0 codes of 8-bit indices with n list numbers and n residuals; got {n} codes of {codes.Layout.BitsPerStep} bits, {lists.Length} lists, {residuals.Length} floats.", nameof(codes));
        }
        int d = residuals.Length / n;
        if (centroids.Length % d != 0 || centroids.Length == 0)
        {
            throw new ArgumentException($"The centroids hold {centroids.Length} floats, not whole {d}-dimensional vectors.", nameof(centroids));
        }
        int listCount = centroids.Length / d;
        long perCodebook = (long)Cells * d * 4;
        int wanted = options.CodebooksPerStep * m;
        int count = (int)Math.Min(wanted, options.MaxBytes / perCodebook);
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"One pairwise codebook takes {perCodebook} bytes, more than MaxBytes = {options.MaxBytes}.");
        }
        int s = options.ListSubcodes;
        byte[] listCodes = FitListSubcodes(centroids, d, listCount, lists, s, options, cancellationToken);

        // Columns: the M code steps, then the S sub-codes of each row's list.
        int columns = m + s;
        var table = new byte[(long)n * columns];
        for (int i = 0; i < n; i++)
        {
            if ((uint)lists[i] >= (uint)listCount)
            {
                throw new ArgumentException($"Row {i} names list {lists[i]}, outside [0, {listCount}).", nameof(lists));
            }
            codes.Row(i).CopyTo(table.AsSpan(i * columns, m));
            listCodes.AsSpan(lists[i] * s, s).CopyTo(table.AsSpan((i * columns) + m, s));
        }
        float[] r = residuals.ToArray();
        var codebooks = new float[(long)count * Cells * d];
        var pairs = new int[count * 2];
        var candidates = new (int U, int V)[columns * (columns - 1) / 2];
        int c = 0;
        for (int u = 0; u < columns; u++)
        {
            for (int v = u + 1; v < columns; v++)
            {
                candidates[c++] = (u, v);
            }
        }
        var gains = new double[candidates.Length];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        for (int j = 0; j < count; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The error left by a pair is Σ||r||² − Σ_cells ||S_c||²/n_c: pick the pair with the largest Σ_cells ||S_c||²/n_c.
            Parallel.For(0, candidates.Length, parallel, () => new CellScratch(n, d), (p, _, scratch) =>
            {
                gains[p] = scratch.Gain(table, columns, candidates[p].U, candidates[p].V, r, n, d);
                return scratch;
            }, _ => { });
            int best = 0;
            for (int p = 1; p < candidates.Length; p++)
            {
                if (gains[p] > gains[best])
                {
                    best = p;
                }
            }
            (int bu, int bv) = candidates[best];
            pairs[2 * j] = bu;
            pairs[(2 * j) + 1] = bv;
            Span<float> codebook = codebooks.AsSpan((int)((long)j * Cells * d), Cells * d);
            CellMeans(table, columns, bu, bv, r, n, d, codebook);
            for (int i = 0; i < n; i++)
            {
                int cell = (table[(i * columns) + bu] << 8) | table[(i * columns) + bv];
                Span<float> ri = r.AsSpan(i * d, d);
                TensorPrimitives.Subtract(ri, codebook.Slice(cell * d, d), ri);
            }
        }
        return new PairwiseDecoder(codebooks, pairs, listCodes, m, d, s);
    }

    /// <summary>Reconstructs the residual of one entry (without its centroid).</summary>
    /// <param name="list">The entry's list.</param>
    /// <param name="code">Its M code bytes.</param>
    /// <param name="destination">D floats.</param>
    public void Decode(int list, ReadOnlySpan<byte> code, Span<float> destination)
    {
        int d = Dimension, m = Steps;
        destination[..d].Clear();
        ReadOnlySpan<byte> subcodes = _listCodes.AsSpan(list * ListSubcodes, ListSubcodes);
        for (int j = 0; j < CodebookCount; j++)
        {
            int u = _pairs[2 * j], v = _pairs[(2 * j) + 1];
            int cell = ((u < m ? code[u] : subcodes[u - m]) << 8) | (v < m ? code[v] : subcodes[v - m]);
            TensorPrimitives.Add(destination[..d], _codebooks.AsSpan((int)((((long)j * Cells) + cell) * d), d), destination[..d]);
        }
    }

    /// <summary>Means of the residuals per cell (zero for empty cells) into a [65536, D] codebook.</summary>
    private static void CellMeans(byte[] table, int columns, int u, int v, float[] r, int n, int d, Span<float> codebook)
    {
        codebook.Clear();
        var counts = new int[Cells];
        for (int i = 0; i < n; i++)
        {
            int cell = (table[(i * columns) + u] << 8) | table[(i * columns) + v];
            counts[cell]++;
            Span<float> target = codebook.Slice(cell * d, d);
            TensorPrimitives.Add(target, r.AsSpan(i * d, d), target);
        }
        for (int cell = 0; cell < Cells; cell++)
        {
            if (counts[cell] > 1)
            {
                Span<float> target = codebook.Slice(cell * d, d);
                TensorPrimitives.Divide(target, counts[cell], target);
            }
        }
    }

    /// <summary>Per-thread buffers of the pair search: rows sorted by cell (counting sort) and one cell's sum.</summary>
    private sealed class CellScratch(int n, int d)
    {
        private readonly int[] _starts = new int[Cells + 1];
        private readonly int[] _order = new int[n];
        private readonly double[] _sum = new double[d];

        public double Gain(byte[] table, int columns, int u, int v, float[] r, int rows, int dimension)
        {
            Array.Clear(_starts);
            for (int i = 0; i < rows; i++)
            {
                _starts[((table[(i * columns) + u] << 8) | table[(i * columns) + v]) + 1]++;
            }
            for (int cell = 0; cell < Cells; cell++)
            {
                _starts[cell + 1] += _starts[cell];
            }
            Span<int> next = _starts.AsSpan(0, Cells).ToArray();
            for (int i = 0; i < rows; i++)
            {
                _order[next[(table[(i * columns) + u] << 8) | table[(i * columns) + v]]++] = i;
            }
            double gain = 0;
            for (int cell = 0; cell < Cells; cell++)
            {
                int from = _starts[cell], to = _starts[cell + 1];
                if (to == from)
                {
                    continue;
                }
                Array.Clear(_sum);
                for (int k = from; k < to; k++)
                {
                    ReadOnlySpan<float> row = r.AsSpan(_order[k] * dimension, dimension);
                    for (int t = 0; t < dimension; t++)
                    {
                        _sum[t] += row[t];
                    }
                }
                gain += TensorPrimitives.SumOfSquares<double>(_sum) / (to - from);
            }
            return gain;
        }
    }

    /// <summary>Sub-codes of every list: S stages of weighted k-means (K = min(256, lists)) over the centroids' residuals.</summary>
    private static byte[] FitListSubcodes(ReadOnlySpan<float> centroids, int d, int listCount, ReadOnlySpan<int> lists, int stages, PairwiseDecoderOptions options, CancellationToken cancellationToken)
    {
        var codes = new byte[(long)listCount * stages];
        if (stages == 0)
        {
            return codes;
        }
        var weights = new double[listCount];
        foreach (int l in lists)
        {
            if ((uint)l < (uint)listCount)
            {
                weights[l]++;
            }
        }
        float[] residual = centroids.ToArray();
        int k = Math.Min(256, listCount);
        var labels = new int[listCount];
        var distances = new float[listCount];
        var rng = new SplitMix64((ulong)options.Seed);
        for (int stage = 0; stage < stages; stage++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var small = new float[k * d];
            // Initial centroids: k distinct lists drawn with probability proportional to their weight (+1, so every list can be drawn).
            var taken = new bool[listCount];
            double total = 0;
            for (int l = 0; l < listCount; l++)
            {
                total += weights[l] + 1;
            }
            for (int c = 0; c < k; c++)
            {
                int pick = 0;
                do
                {
                    double target = rng.NextDouble() * total, acc = 0;
                    for (pick = 0; pick < listCount - 1; pick++)
                    {
                        acc += taken[pick] ? 0 : weights[pick] + 1;
                        if (acc > target && !taken[pick])
                        {
                            break;
                        }
                    }
                }
                while (taken[pick]);
                taken[pick] = true;
                total -= weights[pick] + 1;
                residual.AsSpan(pick * d, d).CopyTo(small.AsSpan(c * d, d));
            }
            Array.Fill(labels, -1);
            var assigned = new int[listCount];
            for (int iteration = 0; iteration < options.ListIterations; iteration++)
            {
                Distances.AssignNearest(residual, small, listCount, k, d, assigned, distances, options.MaxDegreeOfParallelism);
                bool changed = !assigned.AsSpan().SequenceEqual(labels);
                assigned.CopyTo(labels, 0);
                if (!changed)
                {
                    break;
                }
                var sums = new double[k * d];
                var mass = new double[k];
                for (int l = 0; l < listCount; l++)
                {
                    mass[labels[l]] += weights[l];
                    for (int t = 0; t < d; t++)
                    {
                        sums[(labels[l] * d) + t] += weights[l] * residual[(l * d) + t];
                    }
                }
                for (int c = 0; c < k; c++)
                {
                    for (int t = 0; t < d; t++)
                    {
                        small[(c * d) + t] = (float)(sums[(c * d) + t] / Math.Max(mass[c], 1));
                    }
                }
            }
            for (int l = 0; l < listCount; l++)
            {
                codes[((long)l * stages) + stage] = (byte)labels[l];
                TensorPrimitives.Subtract(residual.AsSpan(l * d, d), small.AsSpan(labels[l] * d, d), residual.AsSpan(l * d, d));
            }
        }
        return codes;
    }
}
