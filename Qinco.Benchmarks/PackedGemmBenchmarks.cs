using System;
using BenchmarkDotNet.Attributes;
using Qinco.Core.Numerics;

namespace Qinco.Benchmarks;

/// <summary>
/// A batch of rows times a layer's weights (<c>X * W^T</c>, W stored <c>[out, in]</c>), packing W on every call
/// (<see cref="Gemm.Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, float, float, int)"/>)
/// against packing it once (<see cref="Gemm.PackB"/>), on the QINCo layer shapes with the batch sizes of encoding. One
/// thread, as the encoders run their layers.
/// </summary>
/// <example><c>dotnet run -c Release --project Qinco.Benchmarks -- --filter '*PackedGemm*' --job short</c></example>
[MemoryDiagnoser]
public class PackedGemmBenchmarks
{
    private float[] _x = [];
    private float[] _w = [];
    private float[] _y = [];
    private GemmPackedB _packed = null!;

    /// <summary>Rows of X (vectors times beam in a batch).</summary>
    [Params(80, 256, 1024)]
    public int Rows { get; set; }

    /// <summary>W as <c>outxin</c>: the up projection [256, 128] or the down projection [128, 256].</summary>
    [Params("256x128", "128x256")]
    public string Weights { get; set; } = "256x128";

    private int Out => int.Parse(Weights.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int In => int.Parse(Weights.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        _x = new float[Rows * In];
        _w = new float[Out * In];
        _y = new float[Rows * Out];
        for (int i = 0; i < _x.Length; i++)
        {
            _x[i] = (float)(rng.NextDouble() - 0.5);
        }
        for (int i = 0; i < _w.Length; i++)
        {
            _w[i] = (float)(rng.NextDouble() - 0.5);
        }
        _packed = Gemm.PackB(_w, Out, In, transposeB: true);
    }

    [Benchmark(Baseline = true)]
    public void PackEveryCall() => Gemm.Multiply(_x, _w, _y, Rows, Out, In, transposeB: true, maxDegreeOfParallelism: 1);

    [Benchmark]
    public void PackedOnce() => Gemm.Multiply(_x, _packed, _y, Rows, maxDegreeOfParallelism: 1);
}
