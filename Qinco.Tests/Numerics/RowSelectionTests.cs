using System;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;

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
