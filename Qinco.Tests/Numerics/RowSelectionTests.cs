using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;
using static Qinco.Tests.Numerics.NumericsTestData;

namespace Qinco.Tests.Numerics;

public sealed class RowSelectionTests
{
    /// <summary>Reference order: value ascending, NaN last, then index ascending.</summary>
    private static int[] ReferenceOrder(float[] row) =>
        [.. Enumerable.Range(0, row.Length)
            .OrderBy(j => float.IsNaN(row[j]) ? 1 : 0)
            .ThenBy(j => float.IsNaN(row[j]) ? 0f : row[j])
            .ThenBy(j => j)];

    private static float[] TieHeavyRow(int length, int seed, bool withNaN = false)
    {
        var rng = new Random(seed);
        var row = new float[length];
        for (int j = 0; j < length; j++)
        {
            row[j] = rng.Next(-5, 6) * 0.5f; // many exact ties
            if (withNaN && rng.Next(10) == 0)
            {
                row[j] = float.NaN;
            }
        }
        return row;
    }

    /// <summary>Every length from 1 to 70 (each tail of each width) and a few long ones.</summary>
    private static readonly int[] s_lengths = [.. Enumerable.Range(1, 70), 127, 256, 257, 1280, 4099];

    private static IEnumerable<TestCaseData> VariantCases() => SupportedVariants().Select(v => new TestCaseData(v).SetArgDisplayNames(v.ToString()));

    /// <summary>
    /// The row inside -infinity guard cells: a kernel that read past either end would see a value smaller than any in
    /// the row and return an index outside it.
    /// </summary>
    private static ArraySegment<float> Guarded(float[] row)
    {
        const int Guard = 32;
        var array = new float[row.Length + 2 * Guard];
        Array.Fill(array, float.NegativeInfinity);
        row.CopyTo(array, Guard);
        return new ArraySegment<float>(array, Guard, row.Length);
    }

    /// <summary>Rows of every kind the order must handle: continuous, tie-heavy, NaN-sprinkled, NaN-led, all NaN, infinities, signed zeros.</summary>
    private static IEnumerable<(string Kind, float[] Row)> Rows(int length, int seed)
    {
        var rng = new Random(seed);
        yield return ("continuous", [.. Enumerable.Range(0, length).Select(_ => (float)rng.NextDouble())]);
        yield return ("ties", TieHeavyRow(length, seed));
        yield return ("ties+NaN", TieHeavyRow(length, seed + 1, withNaN: true));
        float[] nanFirst = TieHeavyRow(length, seed + 2);
        Array.Fill(nanFirst, float.NaN, 0, Math.Min(length, 20));
        yield return ("NaN first", nanFirst);
        yield return ("all NaN", Enumerable.Repeat(float.NaN, length).ToArray());
        yield return ("NaN and +Inf", [.. Enumerable.Range(0, length).Select(j => j % 3 == 1 ? float.PositiveInfinity : float.NaN)]);
        yield return ("infinities", [.. Enumerable.Range(0, length).Select(j => rng.Next(3) switch { 0 => float.NegativeInfinity, 1 => float.PositiveInfinity, _ => 1f })]);
        yield return ("signed zeros", [.. Enumerable.Range(0, length).Select(j => rng.Next(3) switch { 0 => -0f, 1 => 0f, _ => 2f })]);
    }

    [TestCaseSource(nameof(VariantCases))]
    public void ArgMin_EveryLengthAndKindOfRow_MatchesReference(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int length in s_lengths)
        {
            foreach (var (kind, row) in Rows(length, length))
            {
                Assert.That(RowSelection.ArgMin(Guarded(row)), Is.EqualTo(ReferenceOrder(row)[0]), $"{variant}, length {length}, {kind}");
            }
        }
        Assert.Throws<ArgumentException>(() => RowSelection.ArgMin(ReadOnlySpan<float>.Empty));
    }

    [TestCaseSource(nameof(VariantCases))]
    public void ArgMin_FindsTheFirstOfTwoMinimaAtEveryPosition(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int length in s_lengths.Where(n => n <= 70))
        {
            var rng = new Random(length);
            float[] row = [.. Enumerable.Range(0, length).Select(_ => 1f + (float)rng.NextDouble())];
            for (int first = 0; first < length; first++)
            {
                // A second minimum later in the row (in a later vector, the same one, or the overlapping tail), with
                // the other sign of zero, must not win.
                int second = first + 1 + (first * 7 % Math.Max(1, length - first));
                float[] copy = (float[])row.Clone();
                copy[first] = first % 2 == 0 ? -0f : 0f;
                if (second < length)
                {
                    copy[second] = first % 2 == 0 ? 0f : -0f;
                }
                Assert.That(RowSelection.ArgMin(Guarded(copy)), Is.EqualTo(first), $"{variant}, length {length}, minima at {first} and {second}");
            }
        }
    }

    [TestCaseSource(nameof(VariantCases))]
    public void ArgMinRows_AndTopK_EveryLengthAndKindOfRow_MatchReference(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int columns in s_lengths)
        {
            float[][] rows = [.. Rows(columns, 7 * columns).Select(r => r.Row)];
            float[] values = [.. rows.SelectMany(r => r)];
            var indices = new int[rows.Length];
            var minima = new float[rows.Length];
            RowSelection.ArgMin(Guarded(values), rows.Length, columns, indices, minima);
            for (int r = 0; r < rows.Length; r++)
            {
                Assert.That(indices[r], Is.EqualTo(ReferenceOrder(rows[r])[0]), $"{variant}, arg-min, columns {columns}, row {r}");
                Assert.That(minima[r], Is.EqualTo(rows[r][indices[r]]));
            }
            foreach (int k in new[] { 1, 2, 5, 16, 17, 50 }.Where(k => k <= columns))
            {
                var idx = new int[rows.Length * k];
                var top = new float[rows.Length * k];
                RowSelection.TopK(Guarded(values), rows.Length, columns, k, idx, top);
                for (int r = 0; r < rows.Length; r++)
                {
                    int[] expected = ReferenceOrder(rows[r])[..k];
                    Assert.That(idx.AsSpan(r * k, k).ToArray(), Is.EqualTo(expected), $"{variant}, top-{k}, columns {columns}, row {r}");
                    Assert.That(top.AsSpan(r * k, k).ToArray(), Is.EqualTo(expected.Select(j => rows[r][j]).ToArray()));
                }
            }
        }
    }

    [TestCaseSource(nameof(VariantCases))]
    public void TopK_DescendingRows_EveryValueEntersTheHeap(KernelVariant variant)
    {
        // The worst case of the filter: each value beats the worst kept one, so every lane is offered.
        using var _ = Kernels.Force(variant);
        foreach (int columns in new[] { 17, 33, 100, 1280 })
        {
            float[] row = [.. Enumerable.Range(0, columns).Select(j => (float)(columns - j))];
            foreach (int k in new[] { 2, 16 })
            {
                var idx = new int[k];
                var top = new float[k];
                RowSelection.TopK(row, 1, columns, k, idx, top);
                Assert.That(idx, Is.EqualTo(ReferenceOrder(row)[..k]), $"{variant}, columns {columns}, k {k}");
            }
        }
    }

    [Test]
    public void ArgMin_EqualValuesPickTheSmallestIndex()
    {
        Assert.That(RowSelection.ArgMin([3f, 1f, 2f, 1f, 1f]), Is.EqualTo(1));
        Assert.That(RowSelection.ArgMin([0f, -0f]), Is.EqualTo(0));
        Assert.That(RowSelection.ArgMin([-0f, 0f]), Is.EqualTo(0));
        Assert.That(RowSelection.ArgMin([5f]), Is.EqualTo(0));
    }

    [Test]
    public void ArgMin_NaNRanksAfterEveryNumber()
    {
        Assert.That(RowSelection.ArgMin([float.NaN, float.PositiveInfinity, 3f]), Is.EqualTo(2));
        Assert.That(RowSelection.ArgMin([float.NaN, float.PositiveInfinity]), Is.EqualTo(1));
        Assert.That(RowSelection.ArgMin([float.NaN, float.NaN]), Is.EqualTo(0));
        Assert.Throws<ArgumentException>(() => RowSelection.ArgMin(ReadOnlySpan<float>.Empty));
    }

    [Test]
    public void ArgMin_Rows_MatchesReference()
    {
        const int rows = 9, cols = 33;
        var values = Enumerable.Range(0, rows).SelectMany(r => TieHeavyRow(cols, r, withNaN: true)).ToArray();
        var idx = new int[rows];
        var min = new float[rows];
        RowSelection.ArgMin(values, rows, cols, idx, min);
        for (int r = 0; r < rows; r++)
        {
            var row = values.AsSpan(r * cols, cols).ToArray();
            Assert.That(idx[r], Is.EqualTo(ReferenceOrder(row)[0]));
            Assert.That(min[r], Is.EqualTo(row[idx[r]]));
        }
    }

    [TestCase(1, 1)]
    [TestCase(5, 5)]
    [TestCase(5, 37)]
    [TestCase(1, 300)]
    [TestCase(5, 300)]
    [TestCase(300, 300)]
    [TestCase(1024, 1500)]
    [TestCase(1024, 1024)]
    public void TopK_MatchesFullSortReference(int k, int columns)
    {
        const int rows = 3;
        foreach (bool withNaN in new[] { false, true })
        {
            var values = Enumerable.Range(0, rows).SelectMany(r => TieHeavyRow(columns, 31 * r + columns + k, withNaN)).ToArray();
            var idx = new int[rows * k];
            var top = new float[rows * k];
            RowSelection.TopK(values, rows, columns, k, idx, top);
            for (int r = 0; r < rows; r++)
            {
                var row = values.AsSpan(r * columns, columns).ToArray();
                int[] expected = ReferenceOrder(row)[..k];
                Assert.That(idx.AsSpan(r * k, k).ToArray(), Is.EqualTo(expected), $"row {r}, NaN {withNaN}");
                Assert.That(top.AsSpan(r * k, k).ToArray(), Is.EqualTo(expected.Select(j => row[j]).ToArray()));
            }
        }
    }

    [Test]
    public void TopK_RandomContinuousValues()
    {
        var rng = new Random(4);
        const int cols = 777, k = 50;
        var row = Enumerable.Range(0, cols).Select(_ => (float)rng.NextDouble()).ToArray();
        var idx = new int[k];
        var top = new float[k];
        RowSelection.TopK(row, 1, cols, k, idx, top);
        Assert.That(idx, Is.EqualTo(ReferenceOrder(row)[..k]));
        Assert.That(top, Is.Ordered);
    }

    [Test]
    public void TopK_RejectsBadK()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RowSelection.TopK(new float[10], 1, 10, 11, new int[11], new float[11]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowSelection.TopK(new float[10], 1, 10, 0, new int[1], new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowSelection.TopK(new float[2000], 1, 2000, 1025, new int[1025], new float[1025]));
        var ex = Assert.Throws<ArgumentException>(() => RowSelection.TopK(new float[10], 1, 10, 3, new int[2], new float[3]));
        Assert.That(ex!.ParamName, Is.EqualTo("indices"));
    }
}
