using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Qinco.Core.Numerics;

namespace Qinco.Benchmarks;

/// <summary>
/// SGEMM throughput per kernel variant on the shapes that matter: a square 2048^3 product and the two QINCo
/// network layers (<c>X * W^T</c> over 65536 vectors). Reports GFLOP/s (2 m n k / mean time) in its own column.
/// </summary>
/// <example><c>dotnet run -c Release --project Qinco.Benchmarks -- --filter '*Gemm*' --job short</c></example>
[MemoryDiagnoser]
[Config(typeof(GemmConfig))]
public class GemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private int _m;
    private int _n;
    private int _k;
    private bool _transposeB;
    private IDisposable? _forced;

    /// <summary>The kernel variants this CPU can run.</summary>
    public static IEnumerable<string> Variants() =>
        Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported).Select(v => v.ToString());

    /// <summary>The kernel variant forced for the run.</summary>
    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = nameof(KernelVariant.Vector512);

    /// <summary><c>MxNxK</c>, with a trailing <c>T</c> when B is stored transposed ([n, k]).</summary>
    [Params("2048x2048x2048", "65536x256x128T", "65536x128x256T")]
    public string Shape { get; set; } = "2048x2048x2048";

    /// <summary>Threads; -1 for all processors.</summary>
    [Params(-1)]
    public int Threads { get; set; } = -1;

    [GlobalSetup]
    public void Setup()
    {
        (_m, _n, _k, _transposeB) = ParseShape(Shape);
        var rng = new Random(42);
        _a = Fill(rng, _m * _k);
        _b = Fill(rng, _k * _n);
        _c = new float[_m * _n];
        _forced = Kernels.Force(Enum.Parse<KernelVariant>(Variant));
    }

    [GlobalCleanup]
    public void Cleanup() => _forced?.Dispose();

    [Benchmark]
    public void Multiply() => Gemm.Multiply(_a, _b, _c, _m, _n, _k, _transposeB, maxDegreeOfParallelism: Threads);

    internal static (int M, int N, int K, bool TransposeB) ParseShape(string shape)
    {
        bool transposeB = shape.EndsWith('T');
        string[] parts = shape.TrimEnd('T').Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture),
            int.Parse(parts[2], CultureInfo.InvariantCulture), transposeB);
    }

    private static float[] Fill(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(rng.NextDouble() - 0.5);
        }
        return values;
    }

    private sealed class GemmConfig : ManualConfig
    {
        public GemmConfig() => AddColumn(new GflopsColumn());
    }

    /// <summary>2 m n k / mean time, from the <c>Shape</c> parameter.</summary>
    private sealed class GflopsColumn : IColumn
    {
        public string Id => nameof(GflopsColumn);

        public string ColumnName => "GFLOP/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Billions of floating-point operations per second: 2 m n k / mean time";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            BenchmarkReport? report = summary[benchmarkCase];
            double? meanNs = report?.ResultStatistics?.Mean;
            if (meanNs is not > 0 || benchmarkCase.Parameters["Shape"] is not string shape)
            {
                return "NA";
            }
            (int m, int n, int k, _) = ParseShape(shape);
            return (2.0 * m * n * k / meanNs.Value).ToString("F1", CultureInfo.InvariantCulture);
        }

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
