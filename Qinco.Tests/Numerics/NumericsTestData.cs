using System;
using System.Collections.Generic;
using System.Linq;
using Qinco.Core.Numerics;

namespace Qinco.Tests.Numerics;

/// <summary>Seeded inputs and helpers shared by the numerics tests.</summary>
internal static class NumericsTestData
{
    /// <summary>The kernel variants this CPU can run.</summary>
    public static IEnumerable<KernelVariant> SupportedVariants() => Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    /// <summary>Uniform values in [-1, 1) (times scale), with NaN guard cells on both sides of the returned segment.</summary>
    public static ArraySegment<float> Guarded(int length, int seed, float scale = 1f)
    {
        const int Guard = 32;
        var rng = new Random(seed);
        var array = new float[length + 2 * Guard];
        Array.Fill(array, float.NaN);
        for (int i = 0; i < length; i++)
        {
            array[Guard + i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }
        return new ArraySegment<float>(array, Guard, length);
    }

    /// <summary>Gaussian blobs: <paramref name="clusters"/> centres with the given spread, anisotropic scales per dimension.</summary>
    public static float[] Blobs(int n, int d, int clusters, int seed, double spread = 0.1)
    {
        var rng = new Random(seed);
        var centres = new double[clusters * d];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = rng.NextDouble() * 2 - 1;
        }
        var data = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            int c = rng.Next(clusters);
            for (int j = 0; j < d; j++)
            {
                double scale = 1.0 / (1 + j * 0.3);
                data[i * d + j] = (float)((centres[c * d + j] + spread * Gaussian(rng)) * scale);
            }
        }
        return data;
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double ReferenceSquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double diff = (double)a[i] - b[i];
            sum += diff * diff;
        }
        return sum;
    }

    /// <summary>Sum over points of the squared distance to the nearest centroid, in double.</summary>
    public static double Objective(float[] data, float[] centroids, int d)
    {
        int n = data.Length / d, k = centroids.Length / d;
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double best = double.PositiveInfinity;
            for (int c = 0; c < k; c++)
            {
                best = Math.Min(best, ReferenceSquaredL2(data.AsSpan(i * d, d), centroids.AsSpan(c * d, d)));
            }
            total += best;
        }
        return total;
    }
}
