using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;

namespace Qinco.Tests.Numerics;

/// <summary>Every SGEMM kernel variant against the double-accumulation reference, plus validation and determinism.</summary>
[TestFixture]
public sealed class GemmTests
{
    /// <summary>Worst-case relative rounding per accumulated term (float epsilon, with margin).</summary>
    private const double PerTermTolerance = 1.2e-7;

    private static readonly (float Alpha, float Beta)[] s_scales = [(1f, 0f), (2.5f, 0f), (1f, 1f), (-0.5f, 0.75f)];

    private static IEnumerable<KernelVariant> SupportedVariants() =>
        Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    private static IEnumerable<TestCaseData> Shapes()
    {
        int[] tiny = [0, 1, 2, 3, 5, 7];
        foreach (int m in tiny)
        {
            foreach (int n in tiny)
            {
                foreach (int k in tiny)
                {
                    yield return new TestCaseData(m, n, k).SetName($"Tiny_{m}x{n}x{k}");
                }
            }
        }
        (int M, int N, int K)[] larger =
        [
            (15, 16, 17), (16, 17, 15), (17, 15, 16), (16, 16, 16), (31, 33, 63), (33, 31, 65), (63, 65, 129),
            (65, 63, 31), (1, 257, 300), (257, 1, 300), (129, 257, 33), (257, 129, 300), (300, 65, 257),
            (13, 300, 129), (2, 129, 513), (24, 48, 1), (48, 96, 0), (1, 1, 1000), (100, 33, 600),
            (40, 600, 37), (70, 513, 260), (25, 100, 1030), (200, 530, 5),
        ];
        foreach ((int m, int n, int k) in larger)
        {
            yield return new TestCaseData(m, n, k).SetName($"Shape_{m}x{n}x{k}");
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void EveryVariantMatchesReference(int m, int n, int k)
    {
        var rng = new Random((m * 7919) + (n * 104729) + k);
        float[] a = RandomArray(rng, m * k);
        float[] b = RandomArray(rng, k * n);
        float[] c0 = RandomArray(rng, m * n);
        var expected = new float[m * n];
        var actual = new float[m * n];
        var scale = new double[m * n];

        foreach (bool transposeB in new[] { false, true })
        {
            foreach ((float alpha, float beta) in s_scales)
            {
                c0.CopyTo(expected, 0);
                GemmReference.Multiply(a, b, expected, m, n, k, transposeB, alpha, beta);
                ErrorScale(a, b, c0, m, n, k, transposeB, alpha, beta, scale);
                foreach (KernelVariant variant in SupportedVariants())
                {
                    using IDisposable _ = Kernels.Force(variant);
                    if (beta == 0f)
                    {
                        // beta = 0 must ignore C entirely, NaN included.
                        Array.Fill(actual, float.NaN);
                    }
                    else
                    {
                        c0.CopyTo(actual, 0);
                    }
                    Gemm.Multiply(a, b, actual, m, n, k, transposeB, alpha, beta);
                    AssertClose(expected, actual, scale, k, $"{variant} {m}x{n}x{k} transposeB={transposeB} alpha={alpha} beta={beta}");
                }
            }
        }
    }

    [Test]
    public void ZeroKScalesC([Values(0f, 1f, -2f)] float beta)
    {
        foreach (KernelVariant variant in SupportedVariants())
        {
            using IDisposable _ = Kernels.Force(variant);
            float[] c = [1f, float.NaN, -3f, 4f, 5f, 6f];
            Gemm.Multiply([], [], c, 2, 3, 0, alpha: 3f, beta: beta);
            for (int i = 0; i < c.Length; i++)
            {
                float original = i == 1 ? float.NaN : new[] { 1f, 0f, -3f, 4f, 5f, 6f }[i];
                float want = beta == 0f ? 0f : beta * original;
                Assert.That(c[i], Is.EqualTo(want), $"{variant} element {i}");
            }
        }
    }

    [TestCase(300, 257, 300, false)]
    [TestCase(300, 257, 300, true)]
    [TestCase(2000, 40, 70, true)]
    [TestCase(5, 1000, 1000, false)]
    [TestCase(3, 700, 1100, true)]
    [TestCase(1, 3000, 800, false)]
    [TestCase(4, 1500, 700, true)]
    public void ParallelRunEqualsSerialRunBitForBit(int m, int n, int k, bool transposeB)
    {
        var rng = new Random(1234 + m + n + k);
        float[] a = RandomArray(rng, m * k);
        float[] b = RandomArray(rng, k * n);
        float[] c0 = RandomArray(rng, m * n);
        foreach (KernelVariant variant in SupportedVariants())
        {
            using IDisposable _ = Kernels.Force(variant);
            float[] serial = (float[])c0.Clone();
            float[] parallel = (float[])c0.Clone();
            Gemm.Multiply(a, b, serial, m, n, k, transposeB, 0.75f, 0.5f, maxDegreeOfParallelism: 1);
            Gemm.Multiply(a, b, parallel, m, n, k, transposeB, 0.75f, 0.5f, maxDegreeOfParallelism: 2);
            Assert.That(parallel, Is.EqualTo(serial).AsCollection, $"{variant} {m}x{n}x{k}");
            float[] wide = (float[])c0.Clone();
            Gemm.Multiply(a, b, wide, m, n, k, transposeB, 0.75f, 0.5f, maxDegreeOfParallelism: 7);
            Assert.That(wide, Is.EqualTo(serial).AsCollection, $"{variant} {m}x{n}x{k} (7 threads)");
        }
    }

    [Test]
    public void ConcurrentCallsDoNotShareScratch()
    {
        const int M = 150, N = 600, K = 300;
        using IDisposable _ = Kernels.Force(Kernels.Best);
        var rng = new Random(99);
        float[][] a = [.. Enumerable.Range(0, 4).Select(_ => RandomArray(rng, M * K))];
        float[] b = RandomArray(rng, K * N);
        float[][] expected = [.. a.Select(x =>
        {
            var c = new float[M * N];
            Gemm.Multiply(x, b, c, M, N, K, transposeB: true, maxDegreeOfParallelism: 1);
            return c;
        })];
        // Each call has its own destination: C accumulates over k blocks, so two calls writing one C would race.
        float[][] actual = [.. Enumerable.Range(0, 16).Select(_ => new float[M * N])];
        System.Threading.Tasks.Parallel.For(0, 16, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            Gemm.Multiply(a[i % 4], b, actual[i], M, N, K, transposeB: true, maxDegreeOfParallelism: 2));
        for (int i = 0; i < 16; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i % 4]).AsCollection, $"call {i}");
        }
    }

    [Test]
    public void ShortSpansThrow()
    {
        float[] a = new float[6], b = new float[12], c = new float[8];
        Assert.That(() => Gemm.Multiply(a.AsSpan(0, 5), b, c, 2, 4, 3), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => Gemm.Multiply(a, b.AsSpan(0, 11), c, 2, 4, 3), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => Gemm.Multiply(a, b.AsSpan(0, 11), c, 2, 4, 3, transposeB: true), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => Gemm.Multiply(a, b, c.AsSpan(0, 7), 2, 4, 3), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => Gemm.Multiply(a, b, c, 2, 4, 3), Throws.Nothing);
    }

    [Test]
    public void BadDimensionsAndParallelismThrow()
    {
        float[] a = new float[6], b = new float[12], c = new float[8];
        Assert.That(() => Gemm.Multiply(a, b, c, -1, 4, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => Gemm.Multiply(a, b, c, 2, -4, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => Gemm.Multiply(a, b, c, 2, 4, -3), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => Gemm.Multiply(a, b, c, 2, 4, 3, maxDegreeOfParallelism: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => Gemm.Multiply(a, b, c, 2, 4, 3, maxDegreeOfParallelism: -2), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void LongerSpansUseOnlyTheirPrefix()
    {
        var rng = new Random(7);
        float[] a = RandomArray(rng, (33 * 20) + 5), b = RandomArray(rng, (20 * 40) + 3);
        float[] c = Enumerable.Repeat(42f, (33 * 40) + 9).ToArray();
        Gemm.Multiply(a, b, c, 33, 40, 20);
        Assert.That(c.AsSpan(33 * 40).ToArray(), Is.All.EqualTo(42f));
    }

    private static float[] RandomArray(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }
        return values;
    }

    /// <summary>|alpha| * sum |a||b| + |beta c|: the magnitude the rounding error is relative to.</summary>
    private static void ErrorScale(
        float[] a, float[] b, float[] c0, int m, int n, int k, bool transposeB, float alpha, float beta, double[] scale)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += Math.Abs((double)a[(i * k) + p] * (transposeB ? b[(j * k) + p] : b[(p * n) + j]));
                }
                scale[(i * n) + j] = (Math.Abs(alpha) * sum) + (beta == 0f ? 0 : Math.Abs(beta * c0[(i * n) + j]));
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual, double[] scale, int k, string what)
    {
        double relative = (k + 4) * PerTermTolerance;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)expected[i] - actual[i]);
            if (!(error <= (relative * scale[i]) + 1e-30))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {error:G3}, allowed {relative * scale[i]:G3}).");
            }
        }
    }
}
