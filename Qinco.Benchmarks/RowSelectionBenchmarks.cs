using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Qinco.Core.Numerics;

namespace Qinco.Benchmarks;

/// <summary>
/// Arg-min and top-k per row, per kernel variant, on rows as long as a codebook (256), a beam of 5 x 256 candidates
/// (1280) and a large codebook (4096), with k = 1, 5 and 16 (the beam widths of beam search). Times are per row.
/// </summary>
/// <example><c>dotnet run -c Release --project Qinco.Benchmarks -- --filter '*RowSelection*' --job short</c></example>
[MemoryDiagnoser]
public class RowSelectionBenchmarks
{
    private const int Rows = 64;
    private float[] _values = [];
    private int[] _indices = [];
    private float[] _selected = [];
    private IDisposable? _forced;

    /// <summary>The kernel variants this CPU accelerates.</summary>
    public static IEnumerable<KernelVariant> Variants() => Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    /// <summary>The kernel variant forced for the run.</summary>
    [ParamsSource(nameof(Variants))]
    public KernelVariant Variant { get; set; }

    /// <summary>Values per row.</summary>
    [Params(256, 1280, 4096)]
    public int Columns { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Squared distances of random points: positive, continuous, no ties.
        var rng = new Random(3);
        _values = [.. Enumerable.Range(0, Rows * Columns).Select(_ => (float)(rng.NextDouble() * rng.NextDouble() * 100))];
        _indices = new int[Rows * 16];
        _selected = new float[Rows * 16];
        _forced = Kernels.Force(Variant);
    }

    [GlobalCleanup]
    public void Cleanup() => _forced?.Dispose();

    [Benchmark(OperationsPerInvoke = Rows)]
    public void ArgMin() => RowSelection.ArgMin(_values, Rows, Columns, _indices, _selected);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void TopK1() => RowSelection.TopK(_values, Rows, Columns, 1, _indices, _selected);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void TopK5() => RowSelection.TopK(_values, Rows, Columns, 5, _indices, _selected);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void TopK16() => RowSelection.TopK(_values, Rows, Columns, 16, _indices, _selected);
}
