using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;
using Qinco.Search;

namespace Qinco.Tests.Search;

public sealed class LookupTableScanTests
{
    private static IEnumerable<KernelVariant> Variants() => Enum.GetValues<KernelVariant>().Where(Kernels.IsSupported);

    [Test]
    public void Sum_EveryWidthAndTailLength_EqualsTheDirectSumBitForBit([ValueSource(nameof(Variants))] KernelVariant variant, [Values(1, 3, 8, 16)] int steps)
    {
        var rng = new Random(42 + steps);
        float[] tables = Enumerable.Range(0, steps * 256).Select(_ => (float)((rng.NextDouble() * 200) - 100)).ToArray();
        using IDisposable forced = Kernels.Force(variant);
        foreach (int count in Enumerable.Range(0, 41).Append(100).Append(257))
        {
            var codes = new byte[count * steps];
            rng.NextBytes(codes);
            float[] bias = Enumerable.Range(0, count).Select(_ => (float)rng.NextDouble() * 1000).ToArray();
            // Exact-length buffers: a read past the end of the interleaved codes or the bias would throw.
            var blocked = new byte[LookupTableScan.InterleavedLength(count, steps)];
            LookupTableScan.Interleave(codes, steps, blocked);
            var actual = new float[count];
            LookupTableScan.Sum(tables, blocked, steps, bias, actual);
            for (int i = 0; i < count; i++)
            {
                float expected = bias[i];
                for (int m = 0; m < steps; m++)
                {
                    expected += tables[(m * 256) + codes[(i * steps) + m]];
                }
                Assert.That(actual[i], Is.EqualTo(expected), $"{variant}, M = {steps}, {count} codes, code {i}");
            }
        }
    }

    [Test]
    public void Sum_ShortBuffers_AreRejectedNamingTheArgument()
    {
        var tables = new float[2 * 256];
        var blocked = new byte[LookupTableScan.InterleavedLength(20, 2)];
        Assert.Multiple(() =>
        {
            Assert.That(() => LookupTableScan.Sum(tables.AsSpan(0, 300), blocked, 2, new float[20], new float[20]), Throws.ArgumentException.With.Property("ParamName").EqualTo("tables"));
            Assert.That(() => LookupTableScan.Sum(tables, blocked.AsSpan(0, 40), 2, new float[20], new float[20]), Throws.ArgumentException.With.Property("ParamName").EqualTo("blockedCodes"));
            Assert.That(() => LookupTableScan.Sum(tables, blocked, 2, new float[19], new float[20]), Throws.ArgumentException.With.Property("ParamName").EqualTo("bias"));
            Assert.That(() => LookupTableScan.Sum(tables, blocked, 0, new float[20], new float[20]), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }
}
