using System;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Search;

namespace Qinco.Tests.Search;

public sealed class FlatSearchTests
{
    /// <summary>Brute force in double precision, sorted by (distance, id).</summary>
    private static int[] Reference(VectorSet database, ReadOnlySpan<float> query, int k)
    {
        var dist = new double[database.Count];
        for (int i = 0; i < database.Count; i++)
        {
            double s = 0;
            ReadOnlySpan<float> row = database.Row(i);
            for (int j = 0; j < row.Length; j++)
            {
                double diff = (double)row[j] - query[j];
                s += diff * diff;
            }
            dist[i] = s;
        }
        return Enumerable.Range(0, database.Count).OrderBy(i => dist[i]).ThenBy(i => i).Take(k).ToArray();
    }

    /// <summary>Small integer values: every distance is exact in float, so the GEMM form ties exactly where the reference does.</summary>
    private static VectorSet IntegerSet(int count, int dimension, int seed, int range)
    {
        var random = new Random(seed);
        var set = new VectorSet(count, dimension);
        for (int i = 0; i < set.Data.Length; i++)
        {
            set.Data[i] = random.Next(range);
        }
        return set;
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(-1)]
    public void MatchesBruteForce_IncludingTies(int threads)
    {
        // Values 0..2 in 20 dimensions: many database vectors share a distance to a query, and some are duplicates.
        VectorSet database = IntegerSet(700, 20, seed: 1, range: 3);
        database[5].CopyTo(database[600]);
        database[5].CopyTo(database[42]);
        VectorSet queries = IntegerSet(150, 20, seed: 2, range: 3);
        database[5].CopyTo(queries[7]);
        const int k = 25;

        SearchResult result = FlatSearch.Search(database, queries, k, threads);

        Assert.That(result.QueryCount, Is.EqualTo(150));
        Assert.That(result.K, Is.EqualTo(k));
        for (int q = 0; q < queries.Count; q++)
        {
            int[] expected = Reference(database, queries.Row(q), k);
            Assert.That(result.NeighborsOf(q).ToArray(), Is.EqualTo(expected), $"query {q}");
            ReadOnlySpan<float> d = result.DistancesOf(q);
            for (int j = 0; j < k; j++)
            {
                float exact = Qinco.Core.Numerics.Distances.SquaredL2(queries.Row(q), database.Row(expected[j]));
                Assert.That(d[j], Is.EqualTo(exact), $"query {q}, rank {j}");
            }
        }
        Assert.That(result.NeighborsOf(7)[..3].ToArray(), Is.EqualTo(new[] { 5, 42, 600 }), "exact duplicates tie at distance 0, smallest id first");
    }

    [Test]
    public void MatchesBruteForce_OnFloatData()
    {
        VectorSet database = SyntheticData.Generate(1000, 24, seed: 3);
        VectorSet queries = SyntheticData.Generate(40, 24, seed: 4);
        SearchResult result = FlatSearch.Search(database, queries, 10, 2);
        int agree = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            int[] expected = Reference(database, queries.Row(q), 10);
            agree += expected[0] == result.NeighborsOf(q)[0] ? 1 : 0;
        }
        Assert.That(agree, Is.EqualTo(queries.Count), "the nearest neighbour is found exactly on well separated data");
    }

    [Test]
    public void SmallShapes_UseTheDirectFormAndStillMatch()
    {
        VectorSet database = IntegerSet(10, 3, seed: 5, range: 4);
        VectorSet queries = IntegerSet(4, 3, seed: 6, range: 4);
        SearchResult result = FlatSearch.Search(database, queries, 10);
        for (int q = 0; q < queries.Count; q++)
        {
            Assert.That(result.NeighborsOf(q).ToArray(), Is.EqualTo(Reference(database, queries.Row(q), 10)));
        }
    }

    [Test]
    public void NoQueries_GivesAnEmptyResult()
    {
        SearchResult result = FlatSearch.Search(IntegerSet(10, 4, 1, 5), new VectorSet(0, 4), 3);
        Assert.That(result.QueryCount, Is.Zero);
    }

    [Test]
    public void Validation_NamesTheProblem()
    {
        VectorSet database = IntegerSet(10, 4, 1, 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => FlatSearch.Search(database, IntegerSet(2, 4, 2, 5), 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlatSearch.Search(database, IntegerSet(2, 4, 2, 5), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlatSearch.Search(database, IntegerSet(2, 4, 2, 5), 1, 0));
        var dim = Assert.Throws<ArgumentException>(() => FlatSearch.Search(database, IntegerSet(2, 5, 2, 5), 1));
        Assert.That(dim!.Message, Does.Contain("dimension"));
        Assert.Throws<ArgumentException>(() => FlatSearch.Search(new VectorSet(0, 4), IntegerSet(2, 4, 2, 5), 1));
        VectorSet bad = IntegerSet(2, 4, 2, 5);
        bad[1][2] = float.NaN;
        Assert.Throws<ArgumentException>(() => FlatSearch.Search(database, bad, 1));
        Assert.Throws<ArgumentNullException>(() => FlatSearch.Search(null!, bad, 1));
    }
}

public sealed class RecallTests
{
    [Test]
    public void CountsQueriesWhoseTrueNearestIsInTheFirstK()
    {
        // 4 queries, 3 results each.
        Matrix<long> results = Matrix<long>.FromArray(new long[]
        {
            7, 1, 2,   // truth 7: found at rank 0
            1, 9, 2,   // truth 9: found at rank 1
            3, 4, 5,   // truth 5: found at rank 2
            3, 4, 5,   // truth 8: never
        }, 3);
        Matrix<int> truth = Matrix<int>.FromArray(new[] { 7, 0, 9, 0, 5, 0, 8, 3 }, 2);
        Assert.That(Recall.AtK(results, truth, 1), Is.EqualTo(0.25));
        Assert.That(Recall.AtK(results, truth, 2), Is.EqualTo(0.5));
        Assert.That(Recall.AtK(results, truth, 3), Is.EqualTo(0.75));
        Matrix<long> longTruth = Matrix<long>.FromArray(Array.ConvertAll(truth.Data, id => (long)id), 2);
        Assert.That(Recall.AtK(results, longTruth, 2), Is.EqualTo(0.5), "int and long ground truth count alike");
    }

    [Test]
    public void Ids_Beyond32Bits_AreMatchedExactly()
    {
        const long big = (1L << 40) + 7;
        Matrix<long> results = Matrix<long>.FromArray([big, 1, 7, big + 1], 2);
        Matrix<long> truth = Matrix<long>.FromArray([big, big], 1);
        Assert.That(Recall.AtK(results, truth, 1), Is.EqualTo(0.5), "7 is not 2^40 + 7");
        Assert.That(Recall.AtK(results, truth, 2), Is.EqualTo(0.5));
        var search = new SearchResult(results, new float[4], 2);
        Assert.That(search.NeighborsOf(0)[0], Is.EqualTo(big));
        Assert.That(Recall.AtK(search, truth, 1), Is.EqualTo(0.5));
    }

    [Test]
    public void Validation()
    {
        Matrix<long> results = Matrix<long>.FromArray(new long[] { 1, 2, 3, 4 }, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => Recall.AtK(results, Matrix<int>.FromArray(new[] { 1, 2 }, 1), 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Recall.AtK(results, Matrix<int>.FromArray(new[] { 1, 2 }, 1), 0));
        Assert.Throws<ArgumentException>(() => Recall.AtK(results, Matrix<int>.FromArray(new[] { 1 }, 1), 1));
    }
}
