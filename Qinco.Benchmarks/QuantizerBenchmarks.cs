using System;
using System.Collections.Generic;
using System.IO;
using BenchmarkDotNet.Attributes;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Benchmarks;

/// <summary>
/// Encoding and decoding latency per vector (d = 128) of every method, for a batch of <see cref="BatchSize"/>
/// vectors with the threads given by <c>QINCO_THREADS</c> (default 2). Data: the SIFT split from ../shared/datasets
/// when present, else structured synthetic vectors. QINCo's cost does not depend on its weights, so its network is
/// initialised (from RQ) but not trained. "QINCo" uses the default encoder (beam 5 × 16 candidates), "QINCo1" the
/// published greedy search over all 256 codewords. Divide the reported time by <see cref="BatchSize"/> for µs/vector.
/// </summary>
[MemoryDiagnoser]
public class QuantizerBenchmarks
{
    private IQuantizer _quantizer = null!;
    private VectorSet _batch = null!;
    private byte[] _codes = null!;
    private float[] _decoded = null!;

    /// <summary>Vectors encoded or decoded per benchmark invocation.</summary>
    public const int BatchSize = 1000;

    [ParamsSource(nameof(Methods))]
    public string Method { get; set; } = "";

    public static IEnumerable<string> Methods() =>
        ["RQ M=8 B=1", "RQ M=8 B=5", "RQ M=16 B=1", "RQ M=16 B=5",
         "QINCo M=8 L=2 h=256", "QINCo M=16 L=2 h=256", "QINCo1 M=8 L=2 h=256", "QINCo1 M=16 L=2 h=256"];

    [GlobalSetup]
    public void Setup()
    {
        (VectorSet train, VectorSet database) = LoadData();
        int threads = int.TryParse(Environment.GetEnvironmentVariable("QINCO_THREADS"), out int t) ? t : 2;
        string[] parts = Method.Split(' ');
        int steps = int.Parse(parts[1].AsSpan(2), System.Globalization.CultureInfo.InvariantCulture);
        if (parts[0] == "RQ")
        {
            int beam = int.Parse(parts[2].AsSpan(2), System.Globalization.CultureInfo.InvariantCulture);
            var rq = Quantizer.Residual(128).WithSteps(steps).WithBeamWidth(beam).WithThreads(threads).Build();
            rq.Fit(train);
            _quantizer = rq;
        }
        else
        {
            // "QINCo": the default encoder (beam 5 x 16 candidates); "QINCo1": the published greedy exhaustive search.
            QincoQuantizerBuilder builder = Quantizer.Qinco(128).WithSteps(steps).WithResidualBlocks(2).WithHiddenSize(256)
                .WithZeroInitialization(false).WithThreads(threads);
            if (parts[0] == "QINCo1")
            {
                builder = builder.WithEncoding(beamWidth: 1, candidates: 0).WithInitializationBeamWidth(1);
            }
            QincoQuantizer qinco = builder.Build();
            qinco.FitInitializationOnly(train);
            _quantizer = qinco;
        }
        _batch = database.Slice(0, BatchSize);
        _codes = _quantizer.Encode(_batch).Data;
        _decoded = new float[BatchSize * 128];
    }

    [Benchmark]
    public byte[] Encode()
    {
        _quantizer.Encode(_batch.Data, _codes);
        return _codes;
    }

    [Benchmark]
    public float[] Decode()
    {
        _quantizer.Decode(_codes, _decoded);
        return _decoded;
    }

    private static (VectorSet Train, VectorSet Database) LoadData()
    {
        string? path = FindSift();
        if (path is not null)
        {
            return (VectorFile.Read(path, new RowRange(0, 5000)), VectorFile.Read(path, new RowRange(5000, 10000)));
        }
        return (SyntheticData.Generate(5000, 128, seed: 1), SyntheticData.Generate(BatchSize, 128, seed: 2));
    }

    private static string? FindSift()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "datasets", "sift10k", "sift10k_base.fvecs");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
