using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Qinco.Core;
using Qinco.Core.Numerics;

namespace Qinco.Search;

/// <summary>
/// An inverted-file index over compressed vectors (ALGORITHM.md §4.2–4.5): a coarse quantizer splits the database
/// into lists; each entry stores its 64-bit id, the M-byte code of its residual to the list's centroid and the norm
/// term of its additive reconstruction. A query probes the <c>nprobe</c> nearest lists, scores their codes with
/// per-query look-up tables (one GEMM per batch of queries, one SIMD table sum per code), keeps a shortlist, decodes
/// the shortlist with the quantizer and re-ranks it by exact L2.
/// </summary>
/// <remarks>
/// <para><b>Distances.</b> With an additive decoder <c>r̂ = Σ_m A_m[k_m]</c> and centroid c, the look-up-table stage
/// computes <c>||q − c − r̂||² = (||q||² − 2⟨q, c⟩) + ||c + r̂||² − 2·Σ_m ⟨q, A_m[k_m]⟩</c>: the first term
/// comes with the coarse search, the second is stored per entry (<see cref="NormStorage.Float"/>), the third sums
/// one table per query, so the tables are not recomputed for each probed list (Faiss' IVF-RQ recomputes them,
/// §6.4). With <see cref="NormStorage.Byte"/> the stored term is the 8-bit <c>||r̂||²</c> of (4.4) and the cross term
/// comes from a per-list table added to the query's table per probed list (the per-(query, list) table of §4.2).</para>
/// <para><b>Ids.</b> Ids are 64-bit and non-negative; an id can be in the index once: <see cref="Add"/> and
/// <see cref="AddCodes"/> reject an id that is already present or repeated in the batch (nothing is added).
/// <see cref="Remove"/> ignores ids that are absent. Results hold id -1 and distance +∞ where a query has fewer than
/// k results.</para>
/// <para><b>Threads.</b> <see cref="Search"/> runs in parallel over fixed blocks of queries and its results do not
/// depend on the thread count. Searches may run concurrently; <see cref="Add"/>, <see cref="AddCodes"/> and
/// <see cref="Remove"/> need exclusive access.</para>
/// </remarks>
public sealed partial class IvfIndex
{
    /// <summary>
    /// Queries per block: their tables and coarse products are one GEMM each (large enough that packing the centroids
    /// costs little per query); fixed, so results never depend on the thread count.
    /// </summary>
    private const int QueryBlock = 128;

    /// <summary>Shortlisted candidates of a block decoded by one call of the quantizer (its per-call cost is then paid once per batch).</summary>
    private const int DecodeBatch = 4096;

    /// <summary>Codes summed before their distances are filtered into the shortlist.</summary>
    private const int ScanChunk = 256;

    private readonly InvertedList[] _lists;
    private readonly float[] _centroidNorms;
    private readonly float[]? _listTables;

    /// <summary>Creates an empty index from its parts.</summary>
    /// <param name="codec">Coarse quantizer and residual codes.</param>
    /// <param name="decoder">The additive decoder of the codes (<see cref="AdditiveDecoder.ForQuantizer"/>): M steps of 256 codewords of dimension D.</param>
    /// <param name="norms">How the norm term is stored (default: float).</param>
    /// <param name="normMin">For <see cref="NormStorage.Byte"/>: the smallest <c>||r̂||²</c> of the training set.</param>
    /// <param name="normMax">For <see cref="NormStorage.Byte"/>: the largest; at least <paramref name="normMin"/>.</param>
    /// <exception cref="ArgumentException">The decoder does not match the codec's layout or dimension, the norm range is
    /// invalid, or a centroid or codeword component lies beyond ±2^40 (or a norm-range end beyond ±2^110), where float32
    /// distance sums would overflow.</exception>
    public IvfIndex(IIvfCodec codec, AdditiveDecoder decoder, NormStorage norms = NormStorage.Float, float normMin = 0, float normMax = 0)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(decoder);
        if (!Enum.IsDefined(norms))
        {
            throw new ArgumentOutOfRangeException(nameof(norms), norms, "Unknown norm storage.");
        }
        if (codec.Layout.BitsPerStep != 8 || decoder.CodebookSize != LookupTableScan.TableSize || decoder.Steps != codec.Layout.Steps || decoder.Dimension != codec.Dimension)
        {
            throw new ArgumentException($"The decoder ({decoder.Steps} steps of {decoder.CodebookSize} codewords, dimension {decoder.Dimension}) does not match the codec's codes ({codec.Layout.Steps} steps of {codec.Layout.BitsPerStep} bits, dimension {codec.Dimension}).", nameof(decoder));
        }
        Checks.Representable(codec.Centroids, Checks.MaxComponent, "centroids", nameof(codec));
        Checks.Representable(decoder.Codebooks, Checks.MaxComponent, "additive decoder's codebooks", nameof(decoder));
        Checks.Representable([normMin, normMax], Checks.MaxSquaredNorm, "norm range's ends", nameof(normMax));
        if (normMax < normMin)
        {
            throw new ArgumentException($"The norm range [{normMin}, {normMax}] is empty.", nameof(normMax));
        }
        (Codec, Decoder, Norms, NormMin, NormMax) = (codec, decoder, norms, normMin, normMax);
        int lists = codec.ListCount, d = codec.Dimension;
        _lists = new InvertedList[lists];
        for (int l = 0; l < lists; l++)
        {
            _lists[l] = new InvertedList(Steps, norms);
        }
        _centroidNorms = new float[lists];
        Distances.RowNorms(codec.Centroids, lists, d, _centroidNorms);
        if (norms == NormStorage.Byte)
        {
            int columns = Steps * LookupTableScan.TableSize;
            _listTables = new float[(long)lists * columns];
            decoder.ComputeLookupTables(codec.Centroids, lists, _listTables, scale: 2f);
        }
    }

    /// <summary>Coarse quantizer and residual codes.</summary>
    public IIvfCodec Codec { get; }

    /// <summary>The additive decoder the look-up tables come from.</summary>
    public AdditiveDecoder Decoder { get; }

    /// <summary>How the norm term is stored.</summary>
    public NormStorage Norms { get; }

    /// <summary>The low end of the 8-bit norm range (<see cref="NormStorage.Byte"/>).</summary>
    public float NormMin { get; }

    /// <summary>The high end of the 8-bit norm range (<see cref="NormStorage.Byte"/>).</summary>
    public float NormMax { get; }

    /// <summary>The optional pairwise decoder of the middle stage (<see cref="IvfSearchParameters.MiddleShortlist"/>), or null.</summary>
    public PairwiseDecoder? Pairwise { get; private set; }

    /// <summary>D.</summary>
    public int Dimension => Codec.Dimension;

    /// <summary>Number of inverted lists.</summary>
    public int ListCount => _lists.Length;

    /// <summary>M: code bytes per entry.</summary>
    public int Steps => Codec.Layout.Steps;

    /// <summary>Entries in the index.</summary>
    public long Count { get; private set; }

    /// <summary>Bytes per entry in the lists: code (M) + norm (4 or 1) + id (8), without the lists' spare capacity.</summary>
    public int BytesPerVector => Steps + (Norms == NormStorage.Float ? 4 : 1) + 8;

    /// <summary>Bytes held by the lists now (including spare capacity), the centroids and the tables, without the quantizer.</summary>
    public long AllocatedBytes
    {
        get
        {
            long total = (Codec.Centroids.Length * 4L) + (_centroidNorms.Length * 4L) + (Decoder.Codebooks.Length * 4L) + ((_listTables?.LongLength ?? 0) * 4);
            foreach (InvertedList list in _lists)
            {
                total += list.AllocatedBytes;
            }
            return total;
        }
    }

    /// <summary>
    /// Creates an empty index for <paramref name="codec"/>, fitting its additive decoder and norm range on
    /// <paramref name="train"/>: RQ's own codebooks, or a least-squares fit (ALGORITHM.md §4.1) to the codes of the
    /// training residuals; the 8-bit norm range is the [min, max] of the training set's <c>||r̂||²</c> (§4.2 [REC]).
    /// </summary>
    /// <param name="codec">Coarse quantizer and residual codes.</param>
    /// <param name="train">Training vectors (raw, of the codec's dimension); encoded here.</param>
    /// <param name="norms">How the norm term is stored.</param>
    /// <param name="maxDegreeOfParallelism">Threads of the fit; -1 uses all processors.</param>
    /// <param name="cancellationToken">Checked during the fit.</param>
    /// <exception cref="ArgumentException">An empty training set or another dimension.</exception>
    public static IvfIndex Create(IIvfCodec codec, VectorSet train, NormStorage norms = NormStorage.Float, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(train);
        if (train.Dimension != codec.Dimension || train.Count == 0)
        {
            throw new ArgumentException($"The training set ({train.Count} x {train.Dimension}) must be non-empty and of dimension {codec.Dimension}.", nameof(train));
        }
        (int[] lists, CodeSet codes) = EncodeAll(codec, train, cancellationToken);
        return Create(codec, train, lists, codes, norms, maxDegreeOfParallelism, cancellationToken);
    }

    /// <summary>
    /// As <see cref="Create(IIvfCodec, VectorSet, NormStorage, int, CancellationToken)"/>, with the training set's
    /// encoding already computed (e.g. the database's own codes, so that they are computed once).
    /// </summary>
    /// <param name="codec">Coarse quantizer and residual codes.</param>
    /// <param name="train">Training vectors (raw).</param>
    /// <param name="lists">Shape: [n]: each training vector's list (from <see cref="IIvfCodec.Encode"/>).</param>
    /// <param name="codes">n residual codes of the codec's layout.</param>
    /// <param name="norms">How the norm term is stored.</param>
    /// <param name="maxDegreeOfParallelism">Threads of the fit; -1 uses all processors.</param>
    /// <param name="cancellationToken">Checked during the fit.</param>
    /// <exception cref="ArgumentException">The counts, dimension or layout disagree, or a list number is out of range.</exception>
    public static IvfIndex Create(IIvfCodec codec, VectorSet train, ReadOnlySpan<int> lists, CodeSet codes, NormStorage norms = NormStorage.Float, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(codes);
        if (train.Dimension != codec.Dimension || train.Count == 0 || lists.Length != train.Count || codes.Count != train.Count || codes.Layout != codec.Layout)
        {
            throw new ArgumentException($"The training set ({train.Count} x {train.Dimension}), its {lists.Length} lists and {codes.Count} codes must agree with each other and with the codec (dimension {codec.Dimension}).", nameof(train));
        }
        foreach (int list in lists)
        {
            if ((uint)list >= (uint)codec.ListCount)
            {
                throw new ArgumentException($"List {list} is outside [0, {codec.ListCount}).", nameof(lists));
            }
        }
        AdditiveDecoder decoder = codec.Quantizer is ResidualQuantizer rq
            ? AdditiveDecoder.FromResidualQuantizer(rq)
            : AdditiveDecoder.Fit(Residuals(codec, train.Data, lists), codes, codec.Dimension, maxDegreeOfParallelism, cancellationToken);
        var squaredNorms = new float[train.Count];
        decoder.SquaredNorms(codes.Data, squaredNorms);
        return new IvfIndex(codec, decoder, norms, TensorPrimitives.Min<float>(squaredNorms), TensorPrimitives.Max<float>(squaredNorms));
    }

    /// <summary>The residuals <c>x − centroid[list]</c> of vectors to the codec's centroids.</summary>
    /// <param name="codec">Gives the centroids.</param>
    /// <param name="vectors">Shape: [n, D].</param>
    /// <param name="lists">Shape: [n].</param>
    /// <returns>Shape: [n, D].</returns>
    /// <exception cref="ArgumentException">The shapes disagree, or a list number is out of range.</exception>
    public static float[] Residuals(IIvfCodec codec, ReadOnlySpan<float> vectors, ReadOnlySpan<int> lists)
    {
        ArgumentNullException.ThrowIfNull(codec);
        int d = codec.Dimension;
        if (vectors.Length != (long)lists.Length * d)
        {
            throw new ArgumentException($"{lists.Length} list numbers but {vectors.Length} floats of dimension {d}.", nameof(vectors));
        }
        var result = new float[vectors.Length];
        ReadOnlySpan<float> centroids = codec.Centroids;
        for (int i = 0; i < lists.Length; i++)
        {
            if ((uint)lists[i] >= (uint)codec.ListCount)
            {
                throw new ArgumentException($"List {lists[i]} is outside [0, {codec.ListCount}).", nameof(lists));
            }
            TensorPrimitives.Subtract(vectors.Slice(i * d, d), centroids.Slice(lists[i] * d, d), result.AsSpan(i * d, d));
        }
        return result;
    }

    /// <summary>
    /// A flat index (ALGORITHM.md §4.3a): one list whose centroid is the origin, so every query scans every code; the
    /// quantizer encodes the vectors themselves.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Create(IIvfCodec, VectorSet, NormStorage, int, CancellationToken)"/> and <see cref="ResidualIvfCodec(CoarseQuantizer, IQuantizer)"/>.</exception>
    public static IvfIndex CreateFlat(IQuantizer quantizer, VectorSet train, NormStorage norms = NormStorage.Float, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        return Create(new ResidualIvfCodec(CoarseQuantizer.Single(quantizer.Dimension), quantizer), train, norms, maxDegreeOfParallelism, cancellationToken);
    }

    /// <summary>Sets (or, with null, removes) the pairwise decoder of the middle stage; it is saved with the index.</summary>
    /// <exception cref="ArgumentException">The decoder's steps, dimension or list sub-codes do not match the index.</exception>
    public void SetPairwiseDecoder(PairwiseDecoder? decoder)
    {
        if (decoder is not null && (decoder.Steps != Steps || decoder.Dimension != Dimension || decoder.ListCount < ListCount))
        {
            throw new ArgumentException($"The pairwise decoder (M = {decoder.Steps}, D = {decoder.Dimension}, {decoder.ListCount} lists) does not match the index (M = {Steps}, D = {Dimension}, {ListCount} lists).", nameof(decoder));
        }
        Pairwise = decoder;
    }

    /// <summary>Entries in list <paramref name="list"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="list"/> is out of range.</exception>
    public int ListSize(int list)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(list);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(list, ListCount);
        return _lists[list].Count;
    }

    /// <summary>The largest id in the index, or -1 when it is empty (a scan of the ids).</summary>
    public long MaxId
    {
        get
        {
            long max = -1;
            foreach (InvertedList list in _lists)
            {
                foreach (long id in list.Ids.AsSpan(0, list.Count))
                {
                    max = Math.Max(max, id);
                }
            }
            return max;
        }
    }

    /// <summary>Whether an entry has id <paramref name="id"/> (a scan of the ids).</summary>
    public bool Contains(long id)
    {
        foreach (InvertedList list in _lists)
        {
            if (list.Ids.AsSpan(0, list.Count).Contains(id))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Encodes and adds vectors with their ids.</summary>
    /// <param name="vectors">Shape: [n, D], finite.</param>
    /// <param name="ids">Shape: [n]; non-negative, not in the index, no repeats.</param>
    /// <param name="cancellationToken">Checked between chunks of <see cref="EncodeChunkRows"/> vectors while encoding; a cancelled add adds nothing.</param>
    /// <exception cref="ArgumentException">Another dimension, NaN/Inf, a count mismatch, a negative id, or an id already present or repeated (nothing is added).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (nothing is added).</exception>
    public void Add(VectorSet vectors, ReadOnlySpan<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Dimension != Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {vectors.Dimension}, the index {Dimension}.", nameof(vectors));
        }
        if (ids.Length != vectors.Count)
        {
            throw new ArgumentException($"{vectors.Count} vectors but {ids.Length} ids.", nameof(ids));
        }
        int bad = Checks.IndexOfNonFinite(vectors.Data);
        if (bad >= 0)
        {
            throw new ArgumentException($"Vector {bad / Dimension}, component {bad % Dimension} is {vectors.Data[bad]}: every value must be finite.", nameof(vectors));
        }
        CheckNewIds(ids);
        (int[] lists, CodeSet codes) = EncodeAll(Codec, vectors, cancellationToken);
        Append(lists, codes.Data, ids);
    }

    /// <summary>Adds entries whose codes were computed elsewhere (e.g. <see cref="IIvfCodec.Encode"/> in another process).</summary>
    /// <param name="lists">Shape: [n]; each entry's list.</param>
    /// <param name="codes">n codes of the codec's layout (residual codes, without list numbers).</param>
    /// <param name="ids">Shape: [n]; as in <see cref="Add"/>.</param>
    /// <exception cref="ArgumentException">Another layout, count mismatches, a list out of range, or bad ids (nothing is added).</exception>
    public void AddCodes(ReadOnlySpan<int> lists, CodeSet codes, ReadOnlySpan<long> ids)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.Layout != Codec.Layout)
        {
            throw new ArgumentException($"The codes have {codes.Layout.Steps} steps of {codes.Layout.BitsPerStep} bits; the index stores {Steps} steps of 8 bits.", nameof(codes));
        }
        if (lists.Length != codes.Count || ids.Length != codes.Count)
        {
            throw new ArgumentException($"{codes.Count} codes, {lists.Length} list numbers and {ids.Length} ids: the counts must agree.", nameof(ids));
        }
        for (int i = 0; i < lists.Length; i++)
        {
            if ((uint)lists[i] >= (uint)ListCount)
            {
                throw new ArgumentException($"Entry {i} names list {lists[i]}, outside [0, {ListCount}).", nameof(lists));
            }
        }
        CheckNewIds(ids);
        Append(lists, codes.Data, ids);
    }

    /// <summary>Removes the entries with the given ids; ids not in the index are ignored.</summary>
    /// <returns>The number of entries removed.</returns>
    public int Remove(ReadOnlySpan<long> ids)
    {
        var set = new HashSet<long>(ids.Length);
        foreach (long id in ids)
        {
            set.Add(id);
        }
        int removed = 0;
        foreach (InvertedList list in _lists)
        {
            for (int pos = list.Count - 1; pos >= 0; pos--)
            {
                if (set.Contains(list.Ids[pos]))
                {
                    list.RemoveAt(pos);
                    removed++;
                }
            }
        }
        Count -= removed;
        return removed;
    }

    /// <summary>
    /// Finds the <paramref name="k"/> nearest entries of every query: coarse probe, look-up-table shortlist, decode,
    /// exact L2 re-rank (ALGORITHM.md §4.3b, §4.5).
    /// </summary>
    /// <param name="queries">Shape: [nq, D], finite.</param>
    /// <param name="k">Results per query, at least 1.</param>
    /// <param name="parameters">nprobe, shortlist, re-ranking and threads (default: <see cref="IvfSearchParameters"/>'s defaults).</param>
    /// <returns>Ids and squared L2 distances (to the reconstructions), nearest first, ties to the smaller id; id -1 and
    /// distance +∞ fill the places of a query with fewer results. An empty index gives only such places.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> below 1, or an invalid parameter (named).</exception>
    /// <exception cref="ArgumentException">The queries have another dimension or hold NaN/Inf.</exception>
    public SearchResult Search(VectorSet queries, int k, IvfSearchParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        parameters ??= new IvfSearchParameters();
        parameters.Validate();
        if (queries.Dimension != Dimension)
        {
            throw new ArgumentException($"The queries have dimension {queries.Dimension}, the index {Dimension}.", nameof(queries));
        }
        int bad = Checks.IndexOfNonFinite(queries.Data);
        if (bad >= 0)
        {
            throw new ArgumentException($"Query {bad / Dimension}, component {bad % Dimension} is {queries.Data[bad]}: every value must be finite.", nameof(queries));
        }
        int nq = queries.Count;
        if ((long)nq * k > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{nq} queries x k = {k} results exceed the largest array.");
        }
        var ids = new long[nq * k];
        var distances = new float[nq * k];
        Array.Fill(ids, -1L);
        Array.Fill(distances, float.PositiveInfinity);
        if (nq > 0 && Count > 0)
        {
            var plan = new SearchPlan(this, queries.Data, k, parameters, ids, distances);
            int blocks = (nq + QueryBlock - 1) / QueryBlock;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = parameters.MaxDegreeOfParallelism },
                () => new SearchScratch(this), (block, _, scratch) =>
                {
                    plan.RunBlock(block * QueryBlock, Math.Min(QueryBlock, nq - (block * QueryBlock)), scratch);
                    return scratch;
                }, _ => { });
        }
        return new SearchResult(Matrix<long>.FromArray(ids, k), distances, k);
    }

    /// <summary>The 8-bit code of a norm (4.4): <c>clamp(floor((ν − min)/(max − min)·256), 0, 255)</c>.</summary>
    internal byte QuantizeNorm(float value)
    {
        float range = NormMax - NormMin;
        if (!(range > 0))
        {
            return 0;
        }
        double code = Math.Floor((value - NormMin) / range * 256.0);
        return (byte)Math.Clamp(code, 0, 255);
    }

    /// <summary>Scale and offset of the 8-bit norm's reconstruction <c>(code + 0.5)/256·(max − min) + min</c> as <c>code·a + b</c>.</summary>
    internal (float Scale, float Offset) NormDequantization()
    {
        float scale = (NormMax - NormMin) / 256f;
        return (scale, NormMin + (0.5f * scale));
    }

    /// <summary>Rows per <see cref="IIvfCodec.Encode"/> call in <see cref="EncodeAll"/>: cancellation is observed between them.</summary>
    public const int EncodeChunkRows = 16_384;

    /// <summary>
    /// Encodes vectors with a codec, <see cref="EncodeChunkRows"/> rows per call, checking the token before each: a
    /// cancelled encoding of a large set stops within one chunk instead of running to the end.
    /// </summary>
    /// <param name="codec">The coarse quantizer and residual codes.</param>
    /// <param name="vectors">Shape: [n, D], D the codec's dimension.</param>
    /// <param name="cancellationToken">Checked before each chunk.</param>
    /// <returns>Each vector's list (shape [n]) and its residual code (n codes of the codec's layout).</returns>
    /// <exception cref="ArgumentException">Another dimension than the codec's.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; nothing is returned.</exception>
    public static (int[] Lists, CodeSet Codes) EncodeAll(IIvfCodec codec, VectorSet vectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Dimension != codec.Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {vectors.Dimension}, the codec {codec.Dimension}.", nameof(vectors));
        }
        var lists = new int[vectors.Count];
        var codes = new CodeSet(vectors.Count, codec.Layout);
        int d = vectors.Dimension, codeSize = codes.CodeSize;
        for (int start = 0; start < vectors.Count; start += EncodeChunkRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(EncodeChunkRows, vectors.Count - start);
            codec.Encode(vectors.Data.AsSpan(start * d, rows * d), lists.AsSpan(start, rows), codes.Data.AsSpan(start * codeSize, rows * codeSize));
        }
        return (lists, codes);
    }

    private void CheckNewIds(ReadOnlySpan<long> ids)
    {
        var batch = new HashSet<long>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0)
            {
                throw new ArgumentException($"Id {ids[i]} (entry {i}) is negative: ids are non-negative (-1 marks a missing result).", nameof(ids));
            }
            if (!batch.Add(ids[i]))
            {
                throw new ArgumentException($"Id {ids[i]} appears twice in the batch: an id can be in the index once.", nameof(ids));
            }
        }
        if (Count == 0)
        {
            return;
        }
        foreach (InvertedList list in _lists)
        {
            foreach (long id in list.Ids.AsSpan(0, list.Count))
            {
                if (batch.Contains(id))
                {
                    throw new ArgumentException($"Id {id} is already in the index: remove it first to replace it.", nameof(ids));
                }
            }
        }
    }

    /// <summary>Computes the stored norm terms (in parallel over fixed chunks) and appends the entries in order.</summary>
    private void Append(ReadOnlySpan<int> lists, ReadOnlySpan<byte> codes, ReadOnlySpan<long> ids)
    {
        int n = lists.Length, m = Steps, d = Dimension;
        var floatNorms = new float[n];
        byte[] codeArray = codes.ToArray();
        int[] listArray = lists.ToArray();
        const int Chunk = 1024;
        Parallel.For(0, (n + Chunk - 1) / Chunk, () => new float[d], (c, _, scratch) =>
        {
            for (int i = c * Chunk; i < Math.Min(n, (c + 1) * Chunk); i++)
            {
                Decoder.Decode(codeArray.AsSpan(i * m, m), scratch);
                float norm = TensorPrimitives.SumOfSquares<float>(scratch);
                floatNorms[i] = Norms == NormStorage.Float
                    ? norm + (2f * TensorPrimitives.Dot(Codec.Centroids.Slice(listArray[i] * d, d), scratch)) + _centroidNorms[listArray[i]]
                    : norm;
            }
            return scratch;
        }, _ => { });
        for (int i = 0; i < n; i++)
        {
            byte byteNorm = Norms == NormStorage.Byte ? QuantizeNorm(floatNorms[i]) : (byte)0;
            _lists[lists[i]].Append(codes.Slice(i * m, m), floatNorms[i], byteNorm, ids[i]);
        }
        Count += n;
    }
}
