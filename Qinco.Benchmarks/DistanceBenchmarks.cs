using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Qinco.Core.Numerics;

namespace Qinco.Benchmarks;

/// <summary>Squared L2 distances and nearest-codeword assignment: 4096 vectors against 256 codewords at d = 128.</summary>
[MemoryDiagnoser]
public class DistanceBenchmarks
{
    private const int N = 4096, K = 256, D = 128;
    private float[] _x = [];
    private float[] _c = [];
    private float[] _distances = [];
    private float[] _best = [];
    private int[] _labels = [];
    private int[] _topIndices = [];
    private float[] _topValues = [];
    private IDisposable? _forced;

    /// <summary>The kernel variants this CPU accelerates.</summary>
    public static IEnumerable<KernelVariant> Variants() => Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    /// <summary>Kernel variant of the direct form.</summary>
    [ParamsSource(nameof(Variants))]
    public KernelVariant Variant { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _x = Enumerable.Range(0, N * D).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = Enumerable.Range(0, K * D).Select(_ => (float)rng.NextDouble()).ToArray();
        _distances = new float[N * K];
        _best = new float[N];
        _labels = new int[N];
        _topIndices = new int[N * 16];
        _topValues = new float[N * 16];
        _forced = Kernels.Force(Variant);
    }

    [GlobalCleanup]
    public void Cleanup() => _forced?.Dispose();

    [Benchmark(Baseline = true)]
    public void DirectMatrix() => Distances.SquaredL2Direct(_x, _c, N, K, D, _distances);

    [Benchmark]
    public void NormsGemmMatrix() => Distances.SquaredL2Gemm(_x, _c, N, K, D, _distances);

    [Benchmark]
    public void DirectMatrixThenArgMin()
    {
        Distances.SquaredL2Direct(_x, _c, N, K, D, _distances);
        RowSelection.ArgMin(_distances, N, K, _labels, _best);
    }

    [Benchmark]
    public void AssignNearestDirect() => Distances.AssignNearest(_x, _c, N, K, D, _labels, _best, form: DistanceForm.Direct);

    [Benchmark]
    public void AssignNearestNormsGemm() => Distances.AssignNearest(_x, _c, N, K, D, _labels, _best, form: DistanceForm.Gemm);

    [Benchmark]
    public void TopK16() => RowSelection.TopK(_distances, N, K, 16, _topIndices, _topValues);
}
