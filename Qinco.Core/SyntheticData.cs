using System;

namespace Qinco.Core;

/// <summary>
/// Structured synthetic vectors for demos and tests: points around cluster centres in a low-dimensional latent space,
/// mapped linearly into the full dimension, plus isotropic noise. Such data compresses the way real embeddings do
/// (most variance in a few directions, clustered), unlike uniform noise, so quantizers can be compared on it.
/// </summary>
public static class SyntheticData
{
    /// <summary>Generates <paramref name="count"/> vectors; the same seed and shape always give the same values.</summary>
    /// <param name="count">Vectors to generate.</param>
    /// <param name="dimension">Floats per vector.</param>
    /// <param name="seed">Seed of the data distribution <em>and</em> of the sample: use one <paramref name="distributionSeed"/> with different seeds to draw train/database/query sets from one distribution.</param>
    /// <param name="distributionSeed">Seed of the cluster centres and the latent-to-full mapping.</param>
    /// <param name="clusters">Number of cluster centres (default 64).</param>
    /// <param name="latentDimension">Dimension of the latent space (default 16, at most <paramref name="dimension"/>).</param>
    public static VectorSet Generate(int count, int dimension, int seed, int distributionSeed = 12345, int clusters = 64, int latentDimension = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(clusters, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(latentDimension, 1);
        int r = Math.Min(latentDimension, dimension);

        var structure = new Random(distributionSeed);
        var centres = new float[clusters * r];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = 4f * Gaussian(structure);
        }
        var mapping = new float[dimension * r];
        float scale = 1f / MathF.Sqrt(r);
        for (int i = 0; i < mapping.Length; i++)
        {
            mapping[i] = scale * Gaussian(structure);
        }
        var offset = new float[dimension];
        for (int j = 0; j < dimension; j++)
        {
            offset[j] = 2f * Gaussian(structure);
        }

        var random = new Random(seed);
        var set = new VectorSet(count, dimension);
        Span<float> latent = stackalloc float[r];
        for (int i = 0; i < count; i++)
        {
            int c = random.Next(clusters);
            for (int t = 0; t < r; t++)
            {
                latent[t] = centres[c * r + t] + Gaussian(random);
            }
            Span<float> row = set[i];
            for (int j = 0; j < dimension; j++)
            {
                float value = offset[j] + 0.1f * Gaussian(random);
                for (int t = 0; t < r; t++)
                {
                    value += mapping[j * r + t] * latent[t];
                }
                row[j] = value;
            }
        }
        return set;
    }

    private static float Gaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() is in (0, 1] so the logarithm is finite.
        double u = 1.0 - random.NextDouble();
        double v = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
    }
}
