using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Numerics.Tensors;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.Numerics;
using Qinco.Search;

namespace Qinco.Tests.Search;

public sealed class IvfIndexTests
{
    private const int D = 16;
    private static readonly Lazy<(VectorSet Train, VectorSet Database, VectorSet Queries, CoarseQuantizer Coarse, ResidualQuantizer Rq)> s_setup = new(Setup);

    private static (VectorSet, VectorSet, VectorSet, CoarseQuantizer, ResidualQuantizer) Setup()
    {
        VectorSet train = SyntheticData.Generate(count: 2000, dimension: D, seed: 1);
        VectorSet database = SyntheticData.Generate(count: 300, dimension: D, seed: 2);
        VectorSet queries = SyntheticData.Generate(count: 20, dimension: D, seed: 3);
        CoarseQuantizer coarse = CoarseQuantizer.Train(train, 6, new KMeansOptions { Seed = 5, Parallelism = new Parallelism(1) });
        var rq = (ResidualQuantizer)Quantizer.Residual(D).WithSteps(3).WithCodebookBits(8).WithBeamWidth(2).WithThreads(1).Build();
        rq.Fit(coarse.Residuals(train, 1));
        return (train, database, queries, coarse, rq);
    }

    [Test]
    public void ResidualsOf_ASource_ReadsTheResidualsOfTheInMemorySet_AndFitsTheSameQuantizer()
    {
        (VectorSet train, _, _, CoarseQuantizer coarse, ResidualQuantizer rq) = s_setup.Value;
        VectorSet expected = coarse.Residuals(train, 1);
        IVectorSource source = coarse.ResidualsOf(new OnlyASource(train));
        var gathered = new float[3 * D];
        source.ReadRows([1999, 0, 700], gathered);
        Assert.That(gathered, Is.EqualTo(expected.Row(1999).ToArray().Concat(expected.Row(0).ToArray()).Concat(expected.Row(700).ToArray()).ToArray()));
        var streamed = (ResidualQuantizer)Quantizer.Residual(D).WithSteps(3).WithCodebookBits(8).WithBeamWidth(2).WithThreads(1).Build();
        streamed.Fit(source);
        Assert.That(Enumerable.Range(0, 3).SelectMany(m => streamed.GetCodebook(m).ToArray()), Is.EqualTo(Enumerable.Range(0, 3).SelectMany(m => rq.GetCodebook(m).ToArray())));
        Assert.That(() => coarse.ResidualsOf(SyntheticData.Generate(4, D + 1, seed: 1)), Throws.ArgumentException.With.Message.Contain("dimension"));
    }

    /// <summary>A set seen only through <see cref="IVectorSource"/>, as a file source is.</summary>
    private sealed class OnlyASource(VectorSet set) : IVectorSource
    {
        public int Count => set.Count;

        public int Dimension => set.Dimension;

        public void ReadRange(int first, int count, Span<float> destination) => set.ReadRange(first, count, destination);

        public void ReadRows(ReadOnlySpan<int> rows, Span<float> destination) => set.ReadRows(rows, destination);
    }

    private static readonly Lazy<IvfQincoQuantizer> s_ivfQinco = new(() =>
    {
        var q = (IvfQincoQuantizer)Quantizer.IvfQinco(D).WithLists(6).WithSteps(3).WithCodebookBits(8).WithResidualBlocks(1).WithHiddenSize(8).WithThreads(1)
            .WithTraining(t => t.MaxEpochs(1).BatchSize(500).Workers(1)).Build();
        q.Fit(s_setup.Value.Train);
        return q;
    });

    private static IEnumerable<KernelVariant> Variants() => Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    private static long[] Ids(int count, int first = 0) => Enumerable.Range(first, count).Select(i => (i * 10L) + 7).ToArray();

    /// <summary>An index whose additive decoder is a least-squares fit (not RQ's own codebooks), so the re-ranking stage runs.</summary>
    private static IvfIndex FittedIndex(NormStorage norms, bool flat = false)
    {
        var (train, _, _, coarse, rq) = s_setup.Value;
        CoarseQuantizer c = flat ? CoarseQuantizer.Single(D) : coarse;
        var codec = new ResidualIvfCodec(c, rq);
        var lists = new int[train.Count];
        var codes = new CodeSet(train.Count, rq.Layout);
        codec.Encode(train.Data, lists, codes.Data);
        var residuals = new float[train.Data.Length];
        c.Residuals(train.Data, lists, residuals);
        AdditiveDecoder decoder = AdditiveDecoder.Fit(residuals, codes, D, 1);
        var squared = new float[train.Count];
        decoder.SquaredNorms(codes.Data, squared);
        return new IvfIndex(codec, decoder, norms, squared.Min(), squared.Max());
    }

    private static IvfIndexTestsExpected Reconstructions(IvfIndex index, VectorSet database, bool additive)
    {
        var lists = new int[database.Count];
        var codes = new CodeSet(database.Count, index.Codec.Layout);
        index.Codec.Encode(database.Data, lists, codes.Data);
        var decoded = new VectorSet(database.Count, D);
        if (additive)
        {
            index.Decoder.Decode(codes.Data, decoded.Data);
            for (int i = 0; i < database.Count; i++)
            {
                TensorPrimitives.Add(decoded[i], index.Codec.Centroids.Slice(lists[i] * D, D), decoded[i]);
            }
        }
        else
        {
            index.Codec.Decode(lists, codes.Data, decoded.Data);
        }
        return new IvfIndexTestsExpected(decoded);
    }

    [Test]
    public void LookupTableDistances_EqualDistancesToTheAdditiveReconstructions_ForEveryWidth(
        [ValueSource(nameof(Variants))] KernelVariant variant, [Values] NormStorage norms, [Values(1, 17, 300)] int size)
    {
        var (_, database, queries, _, _) = s_setup.Value;
        VectorSet db = database.Slice(0, size);
        IvfIndex index = FittedIndex(norms);
        index.Add(db, Ids(size));
        VectorSet expected = Reconstructions(index, db, additive: true).Decoded;
        using IDisposable forced = Kernels.Force(variant);
        SearchResult result = index.Search(queries, size, new IvfSearchParameters { NProbe = 1000, Shortlist = IvfSearchParameters.Unlimited, Rerank = false });
        // 8-bit norms are off by at most half a quantisation step.
        float normError = norms == NormStorage.Byte ? (index.NormMax - index.NormMin) / 512f * 1.001f : 0f;
        for (int q = 0; q < queries.Count; q++)
        {
            ReadOnlySpan<long> ids = result.NeighborsOf(q);
            ReadOnlySpan<float> distances = result.DistancesOf(q);
            Assert.That(ids.ToArray(), Is.EquivalentTo(Ids(size)), "every entry is scored");
            for (int j = 0; j < size; j++)
            {
                int row = (int)((ids[j] - 7) / 10);
                float exact = Distances.SquaredL2(queries.Row(q), expected.Row(row));
                Assert.That(distances[j], Is.EqualTo(exact).Within((1e-4f * (1 + exact)) + normError), $"query {q}, entry {row}");
            }
        }
    }

    [Test]
    public void AllListsAndAnUnlimitedShortlist_EqualExactSearchOverTheDecodedDatabase([Values] bool fittedDecoder, [Values] bool flat)
    {
        var (train, database, queries, coarse, rq) = s_setup.Value;
        IvfIndex index = fittedDecoder
            ? FittedIndex(NormStorage.Float, flat)
            : IvfIndex.Create(new ResidualIvfCodec(flat ? CoarseQuantizer.Single(D) : coarse, rq), train, maxDegreeOfParallelism: 1);
        Assert.That(index.Decoder.IsExact, Is.EqualTo(!fittedDecoder));
        index.Add(database, Ids(database.Count));
        AssertEqualsExactSearch(index, Reconstructions(index, database, additive: false).Decoded, queries);
    }

    /// <summary>
    /// nprobe = all lists with an unlimited shortlist gives the exact search over <paramref name="decoded"/>: the same
    /// distances, and the same ids wherever a rank is not tied.
    /// </summary>
    private static void AssertEqualsExactSearch(IvfIndex index, VectorSet decoded, VectorSet queries)
    {
        const int k = 25;
        SearchResult expected = FlatSearch.Search(decoded, queries, k, maxDegreeOfParallelism: 1);
        SearchResult actual = index.Search(queries, k, new IvfSearchParameters { NProbe = index.ListCount, Shortlist = IvfSearchParameters.Unlimited });
        for (int q = 0; q < queries.Count; q++)
        {
            for (int j = 0; j < k; j++)
            {
                float e = expected.DistancesOf(q)[j];
                Assert.That(actual.DistancesOf(q)[j], Is.EqualTo(e).Within(1e-3f * (1 + e)), $"query {q}, rank {j}");
                if (j + 1 < k && expected.DistancesOf(q)[j + 1] - e > 1e-2f * (1 + e) && (j == 0 || e - expected.DistancesOf(q)[j - 1] > 1e-2f * (1 + e)))
                {
                    Assert.That(actual.NeighborsOf(q)[j], Is.EqualTo((expected.NeighborsOf(q)[j] * 10) + 7), $"query {q}, rank {j}");
                }
            }
        }
    }

    [Test]
    public void IvfQincoLists_AllListsAndAnUnlimitedShortlist_EqualExactSearchOverTheDecodedDatabase_AndSurviveSaveLoad()
    {
        var (train, database, queries, coarse, _) = s_setup.Value;
        IvfQincoQuantizer ivf = s_ivfQinco.Value;
        var codec = new IvfQincoCodec(ivf);
        Assert.That(codec.ListCount, Is.EqualTo(6));
        Assert.That(codec.Centroids.ToArray(), Is.EqualTo(ivf.GetCentroids()));
        IvfIndex index = IvfIndex.Create(codec, train, maxDegreeOfParallelism: 1);
        Assert.That(index.Decoder.IsExact, Is.False);
        index.Add(database, Ids(database.Count));

        // The codec's (list, steps) are IVF-QINCo's own code, and decode as it does.
        CodeSet full = ivf.Encode(database);
        VectorSet decoded = Reconstructions(index, database, additive: false).Decoded;
        Assert.That(decoded.Data, Is.EqualTo(ivf.Decode(full).Data));

        AssertEqualsExactSearch(index, decoded, queries);

        var bytes = new MemoryStream();
        index.Save(bytes);
        IvfIndex loaded = IvfIndex.Load(new MemoryStream(bytes.ToArray()));
        Assert.That(loaded.Codec, Is.InstanceOf<IvfQincoCodec>());
        var p = new IvfSearchParameters { NProbe = 2, Shortlist = 20, MaxDegreeOfParallelism = 1 };
        Assert.That(loaded.Search(queries, 10, p).Ids.Data, Is.EqualTo(index.Search(queries, 10, p with { MaxDegreeOfParallelism = 2 }).Ids.Data));
        Assert.That(() => new ResidualIvfCodec(coarse, ivf), Throws.ArgumentException.With.Message.Contains("IvfQincoCodec"));

        // The additive decoder is the same whether fitted to the split codes or to IVF-QINCo's own codes (list number skipped).
        Assert.That(AdditiveDecoder.ForQuantizer(ivf, train, maxDegreeOfParallelism: 1).Codebooks.ToArray(), Is.EqualTo(index.Decoder.Codebooks.ToArray()));
        var lists = new int[train.Count];
        var steps = new CodeSet(train.Count, codec.Layout);
        codec.Encode(train.Data, lists, steps.Data);
        AdditiveDecoder fromFullCodes = AdditiveDecoder.Fit(IvfIndex.Residuals(codec, train.Data, lists), ivf.Encode(train), D, 1);
        Assert.That(fromFullCodes.Codebooks.ToArray(), Is.EqualTo(index.Decoder.Codebooks.ToArray()));
    }

    [Test]
    public void AddRemoveSearch_RemovedIdsNeverReturned_ReaddedIdsFound()
    {
        var (_, database, queries, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(NormStorage.Byte);
        long[] ids = Ids(database.Count);
        index.Add(database, ids);
        long[] removed = ids.Where((_, i) => i % 3 == 0).ToArray();
        Assert.That(index.Remove(removed.Append(123456789L).ToArray()), Is.EqualTo(removed.Length), "absent ids are ignored");
        Assert.That(index.Count, Is.EqualTo(database.Count - removed.Length));
        var all = new IvfSearchParameters { NProbe = 100, Shortlist = IvfSearchParameters.Unlimited };
        SearchResult result = index.Search(queries, database.Count, all);
        for (int q = 0; q < queries.Count; q++)
        {
            Assert.That(result.NeighborsOf(q).ToArray().Where(id => id >= 0), Is.EquivalentTo(ids.Except(removed)), $"query {q}");
        }
        Assert.That(result.Ids.Data.Count(id => id == -1), Is.EqualTo(queries.Count * removed.Length), "missing places are -1");
        Assert.That(result.Distances.ToArray().Count(float.IsPositiveInfinity), Is.EqualTo(queries.Count * removed.Length));

        int[] back = Enumerable.Range(0, database.Count).Where(i => i % 3 == 0).Take(20).ToArray();
        VectorSet readd = VectorSet.FromRows(back.Select(i => database.Row(i).ToArray()).ToArray());
        index.Add(readd, back.Select(i => ids[i]).ToArray());
        Assert.That(back.All(i => index.Contains(ids[i])), Is.True);
        SearchResult self = index.Search(readd, 1, new IvfSearchParameters { NProbe = 100, Shortlist = 50 });
        Assert.That(Enumerable.Range(0, back.Length).Count(r => self.NeighborsOf(r)[0] == ids[back[r]]), Is.GreaterThanOrEqualTo(back.Length * 3 / 4), "re-added vectors find themselves");
    }

    [Test]
    public void Add_WithACancelledToken_Throws_AndAddsNothing()
    {
        var (_, database, _, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(NormStorage.Float);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => index.Add(database, Ids(database.Count), cancelled.Token));
        Assert.That(index.Count, Is.Zero);
        index.Add(database, Ids(database.Count));
        Assert.That(index.Count, Is.EqualTo(database.Count), "the ids of the cancelled add were not taken");
    }

    [Test]
    public void EncodeAll_InChunks_EqualsOneEncodeCall()
    {
        var (train, _, _, coarse, rq) = s_setup.Value;
        var codec = new ResidualIvfCodec(coarse, rq);
        // More rows than one chunk, and a partial last chunk.
        VectorSet rows = VectorSet.FromRows(Enumerable.Range(0, IvfIndex.EncodeChunkRows + 37).Select(i => train.Row(i % train.Count).ToArray()).ToArray());
        var lists = new int[rows.Count];
        var codes = new CodeSet(rows.Count, codec.Layout);
        codec.Encode(rows.Data, lists, codes.Data);
        (int[] chunkedLists, CodeSet chunkedCodes) = IvfIndex.EncodeAll(codec, rows);
        Assert.That(chunkedLists, Is.EqualTo(lists));
        Assert.That(chunkedCodes.Data, Is.EqualTo(codes.Data));
    }

    [Test]
    public void Search_ResultsDoNotDependOnTheThreadCount([Values] NormStorage norms)
    {
        var (_, database, queries, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(norms);
        index.Add(database, Ids(database.Count));
        VectorSet many = VectorSet.FromRows(Enumerable.Range(0, 3).SelectMany(_ => queries.ToRows()).ToArray());
        SearchResult one = index.Search(many, 10, new IvfSearchParameters { NProbe = 3, Shortlist = 30, MaxDegreeOfParallelism = 1 });
        SearchResult two = index.Search(many, 10, new IvfSearchParameters { NProbe = 3, Shortlist = 30, MaxDegreeOfParallelism = 2 });
        Assert.That(two.Ids.Data, Is.EqualTo(one.Ids.Data));
        Assert.That(two.Distances.ToArray(), Is.EqualTo(one.Distances.ToArray()));
    }

    [Test]
    public void SaveLoad_RoundTrip_GivesTheSameResultsAndBytes([Values] NormStorage norms)
    {
        var (_, database, queries, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(norms);
        index.Add(database, Ids(database.Count));
        index.Remove(Ids(10));
        var bytes = new MemoryStream();
        index.Save(bytes);
        IvfIndex loaded = IvfIndex.Load(new MemoryStream(bytes.ToArray()));
        var again = new MemoryStream();
        loaded.Save(again);
        Assert.That(again.ToArray(), Is.EqualTo(bytes.ToArray()));
        var p = new IvfSearchParameters { NProbe = 2, Shortlist = 40 };
        SearchResult a = index.Search(queries, 10, p), b = loaded.Search(queries, 10, p);
        Assert.That(b.Ids.Data, Is.EqualTo(a.Ids.Data));
        Assert.That(b.Distances.ToArray(), Is.EqualTo(a.Distances.ToArray()));
        Assert.That(loaded.Count, Is.EqualTo(index.Count));
        Assert.That(loaded.Norms, Is.EqualTo(norms));
    }

    [Test]
    public void Load_CorruptTruncatedOrForeignFiles_ThrowFormatExceptionsNamingTheFile()
    {
        var (_, database, _, _, rq) = s_setup.Value;
        IvfIndex index = FittedIndex(NormStorage.Float);
        index.Add(database, Ids(database.Count));
        string dir = Path.Combine(Path.GetTempPath(), $"qinco-index-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "good.qidx");
            index.Save(path);
            byte[] good = File.ReadAllBytes(path);
            string corrupt = Path.Combine(dir, "corrupt.qidx"), truncated = Path.Combine(dir, "truncated.qidx"), model = Path.Combine(dir, "model.qinco");
            byte[] flipped = (byte[])good.Clone();
            flipped[good.Length / 2] ^= 0x40;
            File.WriteAllBytes(corrupt, flipped);
            File.WriteAllBytes(truncated, good.AsSpan(0, good.Length - 100).ToArray());
            rq.Save(model);
            Assert.Multiple(() =>
            {
                Assert.That(() => IvfIndex.Load(corrupt), Throws.InstanceOf<ModelFormatException>().With.Message.Contains("corrupt.qidx").And.Message.Contains("checksum"));
                Assert.That(() => IvfIndex.Load(truncated), Throws.InstanceOf<ModelFormatException>().With.Message.Contains("truncated.qidx").And.Message.Contains("truncated"));
                Assert.That(() => IvfIndex.Load(model), Throws.InstanceOf<ModelFormatException>().With.Message.Contains("model.qinco").And.Message.Contains("QINCOIDX"));
                Assert.That(() => Quantizer.Load(path), Throws.InstanceOf<ModelFormatException>().With.Message.Contains("QINCOMDL"), "an index is never read as a model");
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void MutatedIndexFiles_GiveTheFormatExceptionOrAWorkingIndex([Values] NormStorage norms)
    {
        var (_, database, queries, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(norms);
        index.Add(database.Slice(0, 100), Ids(100));
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] original = stream.ToArray();
        var random = new Random(norms == NormStorage.Float ? 11 : 12);
        int refused = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            (byte[] mutated, string what) = Formats.FileMutations.Mutate(original, random);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            try
            {
                IvfIndex loaded = IvfIndex.Load(new MemoryStream(mutated), maxDegreeOfParallelism: 1);
                SearchResult result = loaded.Search(queries, 5, new IvfSearchParameters { NProbe = 3, Shortlist = 20, MaxDegreeOfParallelism = 1 });
                float[] distances = result.Distances.ToArray();
                Assert.That(Enumerable.Range(0, distances.Length).All(i => float.IsFinite(distances[i]) || result.Ids.Data[i] == -1), Is.True, $"{what}: a loaded index gives non-finite distances");
            }
            catch (ModelFormatException)
            {
                refused++;
            }
            catch (Exception ex) when (ex is not AssertionException)
            {
                Assert.Fail($"{what}: {ex.GetType().Name}: {ex.Message}");
            }
            Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan((16L * original.Length) + (8 << 20)), $"{what}: allocation beyond what the file justifies");
        }
        Assert.That(refused, Is.GreaterThan(50));
    }

    [Test]
    public void FiniteValuesThatWouldOverflowTheDistances_AreRefused_InFilesAsAFormatError()
    {
        var (_, database, _, coarse, rq) = s_setup.Value;
        IvfIndex index = FittedIndex(NormStorage.Float);
        index.Add(database.Slice(0, 50), Ids(50));
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] bytes = stream.ToArray();
        byte[] firstCentroid = System.Runtime.InteropServices.MemoryMarshal.AsBytes(index.Codec.Centroids[..D]).ToArray();
        int at = bytes.AsSpan().IndexOf(firstCentroid);
        Assert.That(at, Is.GreaterThan(28));
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), 1e30f);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(28)));
        Assert.That(() => IvfIndex.Load(new MemoryStream(bytes)), Throws.InstanceOf<ModelFormatException>().With.Message.Contains("centroids").And.Message.Contains("overflow"));

        float[] huge = coarse.Centroids.ToArray();
        huge[3] = 3e12f;
        Assert.That(() => new IvfIndex(new ResidualIvfCodec(new CoarseQuantizer(huge, D), rq), index.Decoder),
            Throws.ArgumentException.With.Message.Contains("centroids").And.Message.Contains("3E+12"));
    }

    [Test]
    public void BadInput_IsRejectedOrClampedAsDocumented()
    {
        var (_, database, queries, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(NormStorage.Float);
        SearchResult empty = index.Search(queries, 5);
        Assert.That(empty.Ids.Data, Is.All.EqualTo(-1L), "an empty index gives empty results");
        index.Add(database, Ids(database.Count));
        Assert.Multiple(() =>
        {
            Assert.That(() => index.Search(queries, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => index.Search(SyntheticData.Generate(3, D + 1, 1), 5), Throws.ArgumentException.With.Property("ParamName").EqualTo("queries"));
            Assert.That(() => index.Search(queries, 5, new IvfSearchParameters { NProbe = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("NProbe"));
            Assert.That(() => index.Search(queries, 5, new IvfSearchParameters { Shortlist = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Shortlist"));
            Assert.That(() => index.Add(database.Slice(0, 2), [1, 1]), Throws.ArgumentException.With.Message.Contains("twice"));
            Assert.That(() => index.Add(database.Slice(0, 2), [7, 5]), Throws.ArgumentException.With.Message.Contains("already in the index"));
            Assert.That(() => index.Add(database.Slice(0, 2), [-3, 5]), Throws.ArgumentException.With.Message.Contains("negative"));
        });
        Assert.That(index.Count, Is.EqualTo(database.Count), "a rejected batch adds nothing");
        var clamped = index.Search(queries, 5, new IvfSearchParameters { NProbe = 1000 });
        var all = index.Search(queries, 5, new IvfSearchParameters { NProbe = index.ListCount });
        Assert.That(clamped.Ids.Data, Is.EqualTo(all.Ids.Data), "nprobe above the list count scans every list");
        SearchResult fewer = index.Search(queries, 50, new IvfSearchParameters { NProbe = 6, Shortlist = 10 });
        Assert.That(Enumerable.Range(0, queries.Count).All(q => fewer.NeighborsOf(q)[10..].ToArray().All(id => id == -1)), Is.True, "only the shortlist is returned");
    }

    [Test]
    public void PairwiseMiddleStage_FitsWithinItsMemoryBound_ReconstructsBetterThanTheAdditiveDecoder_AndSurvivesSaveLoad()
    {
        var (train, database, queries, _, _) = s_setup.Value;
        IvfIndex index = FittedIndex(NormStorage.Float);
        var lists = new int[train.Count];
        var codes = new CodeSet(train.Count, index.Codec.Layout);
        index.Codec.Encode(train.Data, lists, codes.Data);
        float[] residuals = IvfIndex.Residuals(index.Codec, train.Data, lists);
        long perCodebook = PairwiseDecoder.Cells * D * 4L;
        var options = new PairwiseDecoderOptions { MaxBytes = 4 * perCodebook, MaxDegreeOfParallelism = 1 };
        PairwiseDecoder pairwise = PairwiseDecoder.Fit(index.Codec.Centroids, residuals, lists, codes, options);
        Assert.That(pairwise.CodebookCount, Is.EqualTo(4), "2·M = 6 codebooks were asked for; 4 fit in MaxBytes");
        Assert.That(pairwise.Bytes, Is.LessThanOrEqualTo(options.MaxBytes));
        double additive = index.Decoder.MeanSquaredError(residuals, codes.Data), pairwiseError = 0;
        var reconstruction = new float[D];
        for (int i = 0; i < train.Count; i++)
        {
            pairwise.Decode(lists[i], codes.Row(i), reconstruction);
            pairwiseError += Distances.SquaredL2(reconstruction, residuals.AsSpan(i * D, D));
        }
        Assert.That(pairwiseError / train.Count, Is.LessThan(additive));

        index.Add(database, Ids(database.Count));
        index.SetPairwiseDecoder(pairwise);
        var plain = new IvfSearchParameters { NProbe = 6, Shortlist = 300 };
        var middle = plain with { MiddleShortlist = 301 };
        Assert.That(index.Search(queries, 10, middle).Ids.Data, Is.EqualTo(index.Search(queries, 10, plain).Ids.Data), "a middle stage that keeps everything changes nothing");
        var narrow = new IvfSearchParameters { NProbe = 6, Shortlist = 5, MiddleShortlist = 100 };
        SearchResult narrowed = index.Search(queries, 10, narrow);
        var bytes = new MemoryStream();
        index.Save(bytes);
        IvfIndex loaded = IvfIndex.Load(new MemoryStream(bytes.ToArray()));
        Assert.That(loaded.Pairwise, Is.Not.Null);
        Assert.That(loaded.Search(queries, 10, narrow).Ids.Data, Is.EqualTo(narrowed.Ids.Data));
    }

    private sealed record IvfIndexTestsExpected(VectorSet Decoded);
}
