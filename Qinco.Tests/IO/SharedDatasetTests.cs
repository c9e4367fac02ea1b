using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

/// <summary>
/// Reads the real SIFT / BIGANN files of <c>shared/datasets</c> (skipped where absent). The expected row sums and
/// leading values were computed once, independently of this library, by decoding the raw bytes with Python's
/// <c>struct</c> module.
/// </summary>
public sealed class SharedDatasetTests
{
    [Test]
    public void SiftBase_Is10000x128_WithKnownRows()
    {
        string path = TestData.RequireDataset("sift10k/sift10k_base.fvecs");
        Assert.That(VectorFile.GetInfo(path), Is.EqualTo(new VectorFileInfo(VectorFileFormat.Fvecs, VectorElementType.Float32, 10000, 128)));
        VectorSet set = VectorFile.Read(path);
        Assert.That((set.Count, set.Dimension), Is.EqualTo((10000, 128)));
        Assert.That(set.Row(0)[..4].ToArray(), Is.EqualTo(new[] { 0f, 16f, 35f, 5f }));
        AssertRowSums(set, (0, 3745), (1, 3668), (9999, 3755));
        Assert.That(set.Data.Min(), Is.EqualTo(0f));
        Assert.That(set.Data.Max(), Is.EqualTo(180f));
    }

    [Test]
    public void SiftBase_StandardSplits_ReadByRange()
    {
        string path = TestData.RequireDataset("sift10k/sift10k_base.fvecs");
        VectorSet all = VectorFile.Read(path);
        VectorSet train = VectorFile.Read(path, RowRange.Parse("0:4500"));
        VectorSet database = VectorFile.Read(path, RowRange.Parse("5000:"));
        Assert.That(train.Count, Is.EqualTo(4500));
        Assert.That(database.Count, Is.EqualTo(5000));
        Assert.That(train.Data, Is.EqualTo(all.Slice(0, 4500).Data));
        Assert.That(database.Data, Is.EqualTo(all.Slice(5000, 5000).Data));
        AssertRowSums(database, (4999, 3755));
        Assert.That(VectorFile.ReadChunks(path, 999).SelectMany(c => c.Data), Is.EqualTo(all.Data));
    }

    [Test]
    public void SiftQuery_Is1000x128_WithKnownRows()
    {
        string path = TestData.RequireDataset("sift10k/sift10k_query.fvecs");
        VectorSet set = VectorFile.Read(path);
        Assert.That((set.Count, set.Dimension), Is.EqualTo((1000, 128)));
        Assert.That(set.Row(0)[..4].ToArray(), Is.EqualTo(new[] { 1f, 3f, 11f, 110f }));
        AssertRowSums(set, (0, 3748), (1, 4032), (999, 3792));
    }

    [Test]
    public void SiftGroundTruthRows5000_Is1000x100_WithIdsBelow5000()
    {
        string path = TestData.RequireDataset("sift10k/sift10k_groundtruth_rows5000.ivecs");
        Matrix<int> gt = VectorFile.ReadIvecs(path);
        Assert.That((gt.Rows, gt.Columns), Is.EqualTo((1000, 100)));
        Assert.That(gt.Data.Min(), Is.EqualTo(0));
        Assert.That(gt.Data.Max(), Is.EqualTo(4999));
        Assert.That(gt.Row(0)[..4].ToArray(), Is.EqualTo(new[] { 307, 4211, 231, 4541 }));
        Assert.That(gt.Row(0).ToArray().Sum(), Is.EqualTo(363102));
        Assert.That(gt.Row(1).ToArray().Sum(), Is.EqualTo(397291));
        Assert.That(gt.Row(999).ToArray().Sum(), Is.EqualTo(262966));
        Assert.That(VectorFile.ReadIntMatrix(path, new RowRange(999, 1000)).Data, Is.EqualTo(gt.Row(999).ToArray()));
    }

    [Test]
    public void BigannLearn_Is10000x128_BytesInRange()
    {
        string path = TestData.RequireDataset("bigann10k/bigann10k_learn.bvecs");
        Assert.That(VectorFile.GetInfo(path), Is.EqualTo(new VectorFileInfo(VectorFileFormat.Bvecs, VectorElementType.UInt8, 10000, 128)));
        VectorSet set = VectorFile.Read(path);
        Assert.That((set.Count, set.Dimension), Is.EqualTo((10000, 128)));
        Assert.That(set.Data, Is.All.InRange(0f, 255f));
        Assert.That(set.Data.Max(), Is.EqualTo(216f));
        Assert.That(set.Row(0)[..4].ToArray(), Is.EqualTo(new[] { 0f, 0f, 0f, 1f }));
        AssertRowSums(set, (0, 3800), (1, 3806), (9999, 4063));
        Assert.That(VectorFile.Read(path, new RowRange(9000, 10000)).Data, Is.EqualTo(set.Slice(9000, 1000).Data));
    }

    private static void AssertRowSums(VectorSet set, params (int Row, double Sum)[] expected)
    {
        foreach ((int row, double sum) in expected)
        {
            double actual = 0;
            foreach (float v in set.Row(row))
            {
                actual += v;
            }
            Assert.That(actual, Is.EqualTo(sum), $"sum of row {row}");
        }
    }
}
