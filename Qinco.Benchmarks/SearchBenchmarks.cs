using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Core.Numerics;
using Qinco.Search;

namespace Qinco.Benchmarks;

/// <summary>The look-up-table scan alone: nanoseconds per code (M table sums each) over 65,536 interleaved codes, per kernel width.</summary>
[MemoryDiagnoser]
public class LookupTableScanBenchmarks
{
    private const int Codes = 1 << 16;
    private float[] _tables = [];
    private byte[] _blocked = [];
    private float[] _bias = [];
    private float[] _distances = [];
    private IDisposable? _forced;

    /// <summary>The kernel variants this CPU accelerates.</summary>
    public static IEnumerable<KernelVariant> Variants() => Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    /// <summary>Kernel width.</summary>
    [ParamsSource(nameof(Variants))]
    public KernelVariant Variant { get; set; }

    /// <summary>Bytes per code.</summary>
    [Params(8, 16)]
    public int M { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _tables = Enumerable.Range(0, M * 256).Select(_ => (float)rng.NextDouble()).ToArray();
        var codes = new byte[Codes * M];
        rng.NextBytes(codes);
        _blocked = new byte[LookupTableScan.InterleavedLength(Codes, M)];
        LookupTableScan.Interleave(codes, M, _blocked);
        _bias = new float[Codes];
        _distances = new float[Codes];
        _forced = Kernels.Force(Variant);
    }

    [GlobalCleanup]
    public void Cleanup() => _forced?.Dispose();

    /// <summary>One scan of every code; BenchmarkDotNet divides by the code count, so the result is ns per code.</summary>
    [Benchmark(OperationsPerInvoke = Codes)]
    public void Scan() => LookupTableScan.Sum(_tables, _blocked, M, _bias, _distances);
}

/// <summary>
/// Search time per query at fixed operating points. With <c>QINCO_INDEX</c> (an index file) and <c>QINCO_QUERIES</c>
/// (a query file) set, it measures that index (e.g. bigsift's, docs/search.md); otherwise a synthetic 50,000-vector
/// IVF-256 RQ 8x8 index built in the setup.
/// </summary>
[MemoryDiagnoser]
public class IvfSearchBenchmarks
{
    private IvfIndex _index = null!;
    private VectorSet _queries = null!;

    /// <summary>Lists probed.</summary>
    [Params(16, 64)]
    public int NProbe { get; set; }

    /// <summary>Shortlist of the table stage.</summary>
    [Params(100)]
    public int Shortlist { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string? indexPath = Environment.GetEnvironmentVariable("QINCO_INDEX");
        string? queryPath = Environment.GetEnvironmentVariable("QINCO_QUERIES");
        if (indexPath is not null && queryPath is not null)
        {
            _index = IvfIndex.Load(indexPath, 1);
            _queries = VectorFile.Read(queryPath, RowRange.Parse("0:1000"));
            return;
        }
        VectorSet train = SyntheticData.Generate(count: 20_000, dimension: 64, seed: 1);
        CoarseQuantizer coarse = CoarseQuantizer.Train(train, 256, new KMeansOptions { Seed = 1 });
        IQuantizer rq = Quantizer.Residual(64).WithSteps(8).WithCodebookBits(8).WithBeamWidth(1).Build();
        rq.Fit(coarse.Residuals(train));
        _index = IvfIndex.Create(new ResidualIvfCodec(coarse, rq), train.Slice(0, 5000));
        VectorSet database = SyntheticData.Generate(count: 50_000, dimension: 64, seed: 2);
        _index.Add(database, Enumerable.Range(0, database.Count).Select(i => (long)i).ToArray());
        _queries = SyntheticData.Generate(count: 1000, dimension: 64, seed: 3);
    }

    /// <summary>One batch of 1000 queries on one thread; BenchmarkDotNet divides by 1000, so the result is time per query.</summary>
    [Benchmark(OperationsPerInvoke = 1000)]
    public SearchResult Search() => _index.Search(_queries, 100, new IvfSearchParameters { NProbe = NProbe, Shortlist = Shortlist, MaxDegreeOfParallelism = 1 });
}
