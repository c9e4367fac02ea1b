using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;
using static Qinco.Tests.Numerics.NumericsTestData;

namespace Qinco.Tests.Numerics;

public sealed class FiniteCheckTests
{
    private static IEnumerable<TestCaseData> VariantCases() => SupportedVariants().Select(v => new TestCaseData(v).SetArgDisplayNames(v.ToString()));

    [TestCaseSource(nameof(VariantCases))]
    public void IndexOfNonFinite_FindsTheFirstBadValueAtEveryPosition(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int length in Enumerable.Range(0, 71).Concat([1000, 4099]))
        {
            // Values up to float.MaxValue (x - x is still 0), inside NaN guard cells: a read past either end would
            // report a bad value.
            var values = Guarded(length, length, float.MaxValue);
            Assert.That(FiniteCheck.IndexOfNonFinite(values), Is.EqualTo(-1), $"{variant}, length {length}");
            if (length > 70)
            {
                continue;
            }
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                for (int j = 0; j < length; j++)
                {
                    float[] copy = values.ToArray();
                    copy[j] = bad;
                    if (j + 3 < length)
                    {
                        copy[j + 3] = float.NaN;
                    }
                    Assert.That(FiniteCheck.IndexOfNonFinite(copy), Is.EqualTo(j), $"{variant}, length {length}, {bad} at {j}");
                }
            }
        }
    }
}
