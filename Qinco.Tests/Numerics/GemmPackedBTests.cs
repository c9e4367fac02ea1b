using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;
using Qinco.Core.Numerics;
using static Qinco.Tests.Numerics.NumericsTestData;

namespace Qinco.Tests.Numerics;

/// <summary><see cref="Gemm.PackB"/> and the product with a packed B: bit for bit the unpacked product.</summary>
public sealed class GemmPackedBTests
{
    private static IEnumerable<TestCaseData> Shapes()
    {
        (int N, int K)[] shapes =
        [
            (0, 3), (3, 0), (1, 1), (2, 3), (7, 5), (16, 16), (17, 15), (33, 65), (65, 31), (129, 257), (257, 300),
            (600, 37), (256, 128), (128, 256), (40, 1030),
        ];
        foreach ((int n, int k) in shapes)
        {
            foreach (bool transposeB in new[] { false, true })
            {
                yield return new TestCaseData(n, k, transposeB).SetName($"B_{n}x{k}{(transposeB ? "T" : "")}");
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void PackedProductEqualsUnpackedProductBitForBit(int n, int k, bool transposeB)
    {
        float[] b = Guarded(n * k, (n * 31) + k).ToArray();
        foreach (KernelVariant variant in SupportedVariants())
        {
            using IDisposable _ = Kernels.Force(variant);
            GemmPackedB packed = Gemm.PackB(b, n, k, transposeB, maxDegreeOfParallelism: 2);
            Assert.That((packed.N, packed.K, packed.TransposeB, packed.Variant), Is.EqualTo((n, k, transposeB, variant)));
            // Rows on both sides of the unpacked row path (at most 4), one tile, several tiles and thread chunks.
            foreach (int m in new[] { 0, 1, 4, 5, 13, 80, 301 })
            {
                float[] a = Guarded(m * k, m + n + k).ToArray();
                float[] c0 = Guarded(m * n, m * n + 1).ToArray();
                foreach ((float alpha, float beta) in new[] { (1f, 0f), (-2f, 0f), (0.5f, 1f), (1f, -0.25f) })
                {
                    foreach (int threads in new[] { 1, 2 })
                    {
                        float[] expected = (float[])c0.Clone();
                        float[] actual = (float[])c0.Clone();
                        Gemm.Multiply(a, b, expected, m, n, k, transposeB, alpha, beta, threads);
                        Gemm.Multiply(a, packed, actual, m, alpha, beta, threads);
                        Assert.That(Bits(actual), Is.EqualTo(Bits(expected)), $"{variant} {m}x{n}x{k} transposeB={transposeB} alpha={alpha} beta={beta} threads={threads}");
                    }
                }
            }
        }
    }

    [TestCase(128, 256, true)]
    [TestCase(65, 31, false)]
    [TestCase(17, 15, true)]
    public void Repack_GivesTheOperandAFreshPackOfTheNewValuesWithoutNewArrays(int n, int k, bool transposeB)
    {
        foreach (KernelVariant variant in SupportedVariants())
        {
            using IDisposable _ = Kernels.Force(variant);
            GemmPackedB packed = Gemm.PackB(Guarded(n * k, 1).ToArray(), n, k, transposeB);
            float[] next = Guarded(n * k, 2).ToArray();
            Gemm.Repack(packed, next, maxDegreeOfParallelism: 2);
            GemmPackedB fresh = Gemm.PackB(next, n, k, transposeB);
            foreach (int m in new[] { 3, 80 })
            {
                float[] a = Guarded(m * k, m).ToArray();
                float[] viaRepack = new float[m * n], viaFresh = new float[m * n];
                Gemm.Multiply(a, packed, viaRepack, m);
                Gemm.Multiply(a, fresh, viaFresh, m);
                Assert.That(Bits(viaRepack), Is.EqualTo(Bits(viaFresh)), $"{variant} m={m}");
            }
        }
        Assert.Throws<ArgumentException>(() => Gemm.Repack(Gemm.PackB(new float[n * k], n, k, transposeB), new float[(n * k) - 1]));
        Assert.Throws<ArgumentNullException>(() => Gemm.Repack(null!, new float[1]));
    }

    [Test]
    public void PackedOperandRunsWithTheVariantItWasPackedFor()
    {
        const int m = 50, n = 70, k = 90;
        float[] a = Guarded(m * k, 1).ToArray(), b = Guarded(n * k, 2).ToArray();
        foreach (KernelVariant packedFor in SupportedVariants())
        {
            GemmPackedB packed;
            var expected = new float[m * n];
            using (Kernels.Force(packedFor))
            {
                packed = Gemm.PackB(b, n, k, transposeB: true);
                Gemm.Multiply(a, b, expected, m, n, k, transposeB: true);
            }
            foreach (KernelVariant active in SupportedVariants())
            {
                using IDisposable _ = Kernels.Force(active);
                var actual = new float[m * n];
                Gemm.Multiply(a, packed, actual, m);
                Assert.That(Bits(actual), Is.EqualTo(Bits(expected)), $"packed for {packedFor}, run while {active} is active");
            }
        }
    }

    [Test]
    public void PackBCopiesB_AndConcurrentProductsShareTheOperand()
    {
        const int n = 256, k = 128;
        float[] b = Guarded(n * k, 3).ToArray();
        GemmPackedB packed = Gemm.PackB(b, n, k, transposeB: true);
        float[][] a = [.. Enumerable.Range(0, 4).Select(i => Guarded((2 + (i * 60)) * k, 10 + i).ToArray())];
        float[][] expected = [.. a.Select(x =>
        {
            int m = x.Length / k;
            var c = new float[m * n];
            Gemm.Multiply(x, b, c, m, n, k, transposeB: true);
            return c;
        })];
        Array.Fill(b, float.NaN);
        float[][] actual = [.. Enumerable.Range(0, 16).Select(i => new float[expected[i % 4].Length])];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            Gemm.Multiply(a[i % 4], packed, actual[i], a[i % 4].Length / k, maxDegreeOfParallelism: 2));
        for (int i = 0; i < 16; i++)
        {
            Assert.That(Bits(actual[i]), Is.EqualTo(Bits(expected[i % 4])), $"call {i}");
        }
    }

    [Test]
    public void Validation_NamesTheArgument()
    {
        float[] b = new float[12];
        Assert.That(Assert.Throws<ArgumentException>(() => Gemm.PackB(b.AsSpan(0, 11), 4, 3))!.ParamName, Is.EqualTo("b"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PackB(b, -4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PackB(b, 4, 3, maxDegreeOfParallelism: 0));
        GemmPackedB packed = Gemm.PackB(b, 4, 3);
        Assert.That(Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[5], packed, new float[8], 2))!.ParamName, Is.EqualTo("a"));
        Assert.That(Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[6], packed, new float[7], 2))!.ParamName, Is.EqualTo("c"));
        Assert.Throws<ArgumentNullException>(() => Gemm.Multiply(new float[6], null!, new float[8], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(new float[6], packed, new float[8], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(new float[6], packed, new float[8], 2, maxDegreeOfParallelism: -2));
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
