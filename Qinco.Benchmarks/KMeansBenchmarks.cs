using System;
using BenchmarkDotNet.Attributes;
using Qinco.Core.Numerics;

namespace Qinco.Benchmarks;

/// <summary>k-means of 65 536 structured random points (d = 128) into 256 centroids, 10 iterations.</summary>
[MemoryDiagnoser]
public class KMeansBenchmarks
{
    private const int N = 65536, K = 256, D = 128;
    private float[] _data = [];

    [GlobalSetup]
    public void Setup()
    {
        // 512 Gaussian blobs with decaying per-dimension scale: cluster structure plus a PCA spectrum.
        var rng = new Random(7);
        var centres = new float[512 * D];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        _data = new float[N * D];
        for (int i = 0; i < N; i++)
        {
            int c = rng.Next(512);
            for (int j = 0; j < D; j++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                _data[i * D + j] = (float)((centres[c * D + j] + 0.2 * g) / (1 + 0.05 * j));
            }
        }
    }

    [Benchmark(Baseline = true)]
    public KMeansResult Plain() => KMeans.Train(_data, D, K, new KMeansOptions { Iterations = 10 });

    [Benchmark]
    public KMeansResult PlainDirectAssignment() => KMeans.Train(_data, D, K, new KMeansOptions { Iterations = 10, DistanceForm = DistanceForm.Direct });

    [Benchmark]
    public KMeansResult ProgressiveDimensions() => KMeans.Train(_data, D, K, new KMeansOptions { Iterations = 10, ProgressiveDimensions = true });
}
