using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

public sealed class VectorFileRoundTripTests : TempFiles
{
    private static VectorSet Floats(int rows, int dimension, int seed = 1)
    {
        var random = new Random(seed);
        var set = new VectorSet(rows, dimension);
        for (int i = 0; i < set.Data.Length; i++)
        {
            set.Data[i] = (float)((random.NextDouble() * 200) - 100);
        }
        return set;
    }

    private static VectorSet Bytes(int rows, int dimension, int seed = 2)
    {
        var random = new Random(seed);
        var set = new VectorSet(rows, dimension);
        for (int i = 0; i < set.Data.Length; i++)
        {
            set.Data[i] = random.Next(256);
        }
        set.Data[0] = 0;
        set.Data[^1] = 255;
        return set;
    }

    private static Matrix<int> Ints(int rows, int columns)
    {
        var random = new Random(3);
        var m = new Matrix<int>(rows, columns);
        for (int i = 0; i < m.Data.Length; i++)
        {
            m.Data[i] = random.Next(int.MinValue, int.MaxValue);
        }
        return m;
    }

    [TestCase("v.fvecs")]
    [TestCase("v.npy")]
    [TestCase("V.FVECS")]
    public void Float32_RoundTrips(string name)
    {
        VectorSet set = Floats(37, 5);
        set.Data[3] = float.NaN;
        set.Data[4] = float.NegativeInfinity;
        set.Data[5] = -0f;
        string path = PathOf(name);
        VectorFile.Write(path, set);
        VectorSet back = VectorFile.Read(path);
        Assert.That(back.Count, Is.EqualTo(37));
        Assert.That(back.Dimension, Is.EqualTo(5));
        Assert.That(back.Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(set.Data.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Fvecs_HasTexmexLayout()
    {
        string path = PathOf("a.fvecs");
        VectorFile.WriteFvecs(path, VectorSet.FromArray([1f, 2f, 3f, 4f], 2));
        byte[] bytes = File.ReadAllBytes(path);
        Assert.That(bytes, Has.Length.EqualTo(2 * (4 + 8)));
        Assert.That(BitConverter.ToInt32(bytes, 0), Is.EqualTo(2));
        Assert.That(BitConverter.ToSingle(bytes, 4), Is.EqualTo(1f));
        Assert.That(BitConverter.ToInt32(bytes, 12), Is.EqualTo(2));
        Assert.That(BitConverter.ToSingle(bytes, 20), Is.EqualTo(4f));
    }

    [Test]
    public void Bvecs_RoundTripsAndWidens()
    {
        VectorSet set = Bytes(20, 7);
        string path = PathOf("b.bvecs");
        VectorFile.Write(path, set);
        Assert.That(new FileInfo(path).Length, Is.EqualTo(20 * (4 + 7)));
        Assert.That(VectorFile.ReadBvecs(path).Data, Is.EqualTo(set.Data));
        Assert.That(VectorFile.Read(path).Data, Is.EqualTo(set.Data));
        Assert.That(VectorFile.ReadLongMatrix(path).Data, Is.EqualTo(set.Data.Select(v => (long)v)));
    }

    [TestCase(256f)]
    [TestCase(-1f)]
    [TestCase(1.5f)]
    [TestCase(float.NaN)]
    public void Bvecs_RejectsNonByteValues_AndWritesNothing(float bad)
    {
        VectorSet set = Bytes(4, 3);
        set[2][1] = bad;
        string path = PathOf("bad.bvecs");
        var ex = Assert.Throws<ArgumentException>(() => VectorFile.WriteBvecs(path, set));
        Assert.That(ex!.Message, Does.Contain("Vector 2, component 1").And.Contain("0..255"));
        Assert.That(File.Exists(path), Is.False);
        Assert.Throws<ArgumentException>(() => VectorFile.WriteNpy(PathOf("bad.npy"), set, VectorElementType.UInt8));
    }

    [Test]
    public void NpyUInt8_RoundTrips()
    {
        VectorSet set = Bytes(9, 4);
        string path = PathOf("u8.npy");
        VectorFile.WriteNpy(path, set, VectorElementType.UInt8);
        Assert.That(VectorFile.GetInfo(path), Is.EqualTo(new VectorFileInfo(VectorFileFormat.Npy, VectorElementType.UInt8, 9, 4)));
        Assert.That(VectorFile.ReadNpy(path).Data, Is.EqualTo(set.Data));
        Assert.That(VectorFile.ReadIntMatrix(path).Data, Is.EqualTo(set.Data.Select(v => (int)v)));
    }

    [TestCase("g.ivecs")]
    [TestCase("g.npy")]
    public void Int32_RoundTrips(string name)
    {
        Matrix<int> m = Ints(13, 6);
        string path = PathOf(name);
        if (name.EndsWith(".npy", StringComparison.Ordinal))
        {
            VectorFile.WriteNpy(path, m);
        }
        else
        {
            VectorFile.WriteIvecs(path, m);
        }
        Matrix<int> back = VectorFile.ReadIntMatrix(path);
        Assert.That((back.Rows, back.Columns), Is.EqualTo((13, 6)));
        Assert.That(back.Data, Is.EqualTo(m.Data));
        Assert.That(back[12, 5], Is.EqualTo(m.Data[^1]));
        Assert.That(VectorFile.ReadLongMatrix(path).Data, Is.EqualTo(m.Data.Select(v => (long)v)));
    }

    [Test]
    public void Int64_RoundTrips_AndNarrowsWhenValuesFit()
    {
        var m = Matrix<long>.FromArray([0L, 1L, -5L, int.MaxValue, int.MinValue, 42L], 3);
        string path = PathOf("l.npy");
        VectorFile.WriteNpy(path, m);
        Assert.That(VectorFile.GetInfo(path).ElementType, Is.EqualTo(VectorElementType.Int64));
        Assert.That(VectorFile.ReadLongMatrix(path).Data, Is.EqualTo(m.Data));
        Assert.That(VectorFile.ReadIntMatrix(path).Data, Is.EqualTo(m.Data.Select(v => (int)v)));
    }

    [Test]
    public void Int64_ValuesOutsideInt32_AreNamedWhenNarrowing()
    {
        var m = Matrix<long>.FromArray([0L, 1L, 2L, 1L << 40], 2);
        string path = PathOf("big.npy");
        VectorFile.WriteNpy(path, m);
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.ReadIntMatrix(path));
        Assert.That(ex!.Message, Does.Contain("big.npy").And.Contain("row 1, column 1"));
    }

    [Test]
    public void Npy_HeaderIsWhatNumPyWrites()
    {
        string path = PathOf("h.npy");
        VectorFile.WriteNpy(path, VectorSet.FromArray([0f, 1f, 2f, 3f, 4f, 5f], 3));
        byte[] bytes = File.ReadAllBytes(path);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }));
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        string header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.That(header.TrimEnd(), Is.EqualTo("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
        Assert.That(header[^1], Is.EqualTo('\n'));
        Assert.That((10 + headerLength) % 64, Is.Zero);
        Assert.That(bytes, Has.Length.EqualTo(10 + headerLength + 24));
    }

    [Test]
    public void Npy_ZeroRows_RoundTrips()
    {
        string path = PathOf("empty.npy");
        VectorFile.WriteNpy(path, new VectorSet(0, 4));
        VectorSet back = VectorFile.Read(path);
        Assert.That((back.Count, back.Dimension), Is.EqualTo((0, 4)));
    }

    [Test]
    public void Texmex_ZeroRows_IsRefusedOnWrite()
    {
        Assert.Throws<ArgumentException>(() => VectorFile.WriteFvecs(PathOf("e.fvecs"), new VectorSet(0, 4)));
        Assert.Throws<ArgumentException>(() => VectorFile.WriteIvecs(PathOf("e.ivecs"), new Matrix<int>(0, 4)));
    }

    [Test]
    public void Write_ByExtension_RejectsIvecsAndUnknown()
    {
        VectorSet set = Floats(2, 2);
        Assert.Throws<ArgumentException>(() => VectorFile.Write(PathOf("x.ivecs"), set));
        Assert.Throws<ArgumentException>(() => VectorFile.Write(PathOf("x.txt"), set));
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.Read(PathOf("x.txt")));
        Assert.That(ex!.Message, Does.Contain("x.txt").And.Contain(".txt"));
    }

    [Test]
    public void Read_IntegerFile_AsVectors_IsAnErrorNamingTheType()
    {
        string path = PathOf("ids.npy");
        VectorFile.WriteNpy(path, Ints(2, 2));
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.Read(path));
        Assert.That(ex!.Message, Does.Contain("ids.npy").And.Contain("'<i4'"));
        string ivecs = PathOf("ids.ivecs");
        VectorFile.WriteIvecs(ivecs, Ints(2, 2));
        Assert.Throws<VectorFileException>(() => VectorFile.Read(ivecs));
        string fvecs = PathOf("v.fvecs");
        VectorFile.WriteFvecs(fvecs, Floats(2, 2));
        Assert.Throws<VectorFileException>(() => VectorFile.ReadIntMatrix(fvecs));
    }

    [TestCase(VectorFileFormat.Fvecs)]
    [TestCase(VectorFileFormat.Bvecs)]
    [TestCase(VectorFileFormat.Npy)]
    public void Streams_RoundTrip_FromTheCurrentPosition(VectorFileFormat format)
    {
        VectorSet set = Bytes(11, 3);
        using var stream = new MemoryStream();
        stream.Write([7, 7, 7]);
        VectorFile.Write(stream, format, set);
        stream.Position = 3;
        Assert.That(VectorFile.GetInfo(stream, format).Rows, Is.EqualTo(11));
        Assert.That(stream.Position, Is.EqualTo(3));
        Assert.That(VectorFile.Read(stream, format).Data, Is.EqualTo(set.Data));
        stream.Position = 3;
        Assert.That(VectorFile.Read(stream, format, new RowRange(4, 6)).Data, Is.EqualTo(set.Slice(4, 2).Data));
        stream.Position = 3;
        Assert.That(VectorFile.ReadChunks(stream, format, 4).SelectMany(c => c.Data), Is.EqualTo(set.Data));
    }

    [Test]
    public void Streams_IntAndLongMatrices_RoundTrip()
    {
        Matrix<int> m = Ints(5, 4);
        using var ivecs = new MemoryStream();
        VectorFile.Write(ivecs, VectorFileFormat.Ivecs, m);
        ivecs.Position = 0;
        Assert.That(VectorFile.ReadIntMatrix(ivecs, VectorFileFormat.Ivecs).Data, Is.EqualTo(m.Data));

        var l = Matrix<long>.FromArray([1L, long.MaxValue, long.MinValue, 4L], 2);
        using var npy = new MemoryStream();
        VectorFile.WriteNpy(npy, l);
        npy.Position = 0;
        Assert.That(VectorFile.ReadLongMatrix(npy, VectorFileFormat.Npy).Data, Is.EqualTo(l.Data));
    }

    [Test]
    public void GetInfo_ReportsShapeWithoutData()
    {
        string path = PathOf("i.fvecs");
        VectorFile.WriteFvecs(path, Floats(123, 17));
        Assert.That(VectorFile.GetInfo(path), Is.EqualTo(new VectorFileInfo(VectorFileFormat.Fvecs, VectorElementType.Float32, 123, 17)));
        string ivecs = PathOf("i.ivecs");
        VectorFile.WriteIvecs(ivecs, Ints(3, 100));
        Assert.That(VectorFile.GetInfo(ivecs), Is.EqualTo(new VectorFileInfo(VectorFileFormat.Ivecs, VectorElementType.Int32, 3, 100)));
    }

    // ------------------------------------------------------------ row ranges

    public static IEnumerable<TestCaseData> Ranges()
    {
        foreach (string ext in new[] { ".fvecs", ".bvecs", ".npy" })
        {
            yield return new TestCaseData(ext, 0, 1).SetName($"RowRange_first{ext}");
            yield return new TestCaseData(ext, 10, 25).SetName($"RowRange_middle{ext}");
            yield return new TestCaseData(ext, 49, 50).SetName($"RowRange_last{ext}");
            yield return new TestCaseData(ext, 17, 17).SetName($"RowRange_empty{ext}");
            yield return new TestCaseData(ext, 50, 50).SetName($"RowRange_emptyAtEnd{ext}");
            yield return new TestCaseData(ext, 0, 50).SetName($"RowRange_all{ext}");
        }
    }

    [TestCaseSource(nameof(Ranges))]
    public void RowRange_ReadsExactlyThoseRows(string ext, int start, int end)
    {
        VectorSet set = Bytes(50, 6);
        string path = PathOf("r" + ext);
        VectorFile.Write(path, set);
        VectorSet part = VectorFile.Read(path, new RowRange(start, end));
        Assert.That(part.Count, Is.EqualTo(end - start));
        Assert.That(part.Dimension, Is.EqualTo(6));
        Assert.That(part.Data, Is.EqualTo(set.Slice(start, end - start).Data));
    }

    [Test]
    public void RowRange_OpenEnded_ReadsToTheEnd()
    {
        VectorSet set = Floats(30, 4);
        string path = PathOf("o.fvecs");
        VectorFile.Write(path, set);
        Assert.That(VectorFile.Read(path, RowRange.Parse("25:")).Data, Is.EqualTo(set.Slice(25, 5).Data));
        Assert.That(VectorFile.Read(path, RowRange.From(30)).Count, Is.Zero);
        Assert.That(VectorFile.Read(path, RowRange.All).Count, Is.EqualTo(30));
    }

    [Test]
    public void RowRange_OfIntegers()
    {
        Matrix<int> m = Ints(20, 3);
        string path = PathOf("gt.ivecs");
        VectorFile.WriteIvecs(path, m);
        Matrix<int> part = VectorFile.ReadIvecs(path, new RowRange(5, 8));
        Assert.That(part.Rows, Is.EqualTo(3));
        Assert.That(part.Data, Is.EqualTo(m.Data.Skip(15).Take(9)));
    }

    [TestCase(".fvecs", 0, 51)]
    [TestCase(".fvecs", 51, 52)]
    [TestCase(".npy", 40, 60)]
    [TestCase(".bvecs", 51, null)]
    public void RowRange_OutsideTheFile_IsAnError(string ext, int start, int? end)
    {
        string path = PathOf("out" + ext);
        VectorFile.Write(path, Bytes(50, 2));
        var range = new RowRange(start, end);
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.Read(path, range));
        Assert.That(ex!.Message, Does.Contain("out" + ext).And.Contain("50 rows").And.Contain(range.ToString()).And.Contain("outside"));
        Assert.Throws<VectorFileException>(() => VectorFile.ReadChunks(path, 10, range).ToList());
    }

    // ------------------------------------------------------------ chunks

    [Test]
    public void ReadChunks_EqualsWholeRead([Values(".fvecs", ".bvecs", ".npy")] string ext, [Values(1, 7, 50, 64, 1000)] int chunkRows)
    {
        VectorSet set = Bytes(50, 5);
        string path = PathOf("c" + ext);
        VectorFile.Write(path, set);
        List<VectorSet> chunks = VectorFile.ReadChunks(path, chunkRows).ToList();
        Assert.That(chunks, Has.Count.EqualTo((50 + chunkRows - 1) / chunkRows));
        Assert.That(chunks.Take(chunks.Count - 1).Select(c => c.Count), Is.All.EqualTo(chunkRows));
        Assert.That(chunks.Select(c => c.Dimension), Is.All.EqualTo(5));
        Assert.That(chunks.SelectMany(c => c.Data), Is.EqualTo(VectorFile.Read(path).Data));
    }

    [Test]
    public void ReadChunks_OfARange()
    {
        VectorSet set = Floats(40, 3);
        string path = PathOf("cr.fvecs");
        VectorFile.Write(path, set);
        List<VectorSet> chunks = VectorFile.ReadChunks(path, 4, new RowRange(10, 21)).ToList();
        Assert.That(chunks.Select(c => c.Count), Is.EqualTo(new[] { 4, 4, 3 }));
        Assert.That(chunks.SelectMany(c => c.Data), Is.EqualTo(set.Slice(10, 11).Data));
        Assert.That(VectorFile.ReadChunks(path, 4, new RowRange(5, 5)), Is.Empty);
    }

    [Test]
    public void ReadChunks_ValidatesArgumentsEagerly_AndOpensLazily()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorFile.ReadChunks(PathOf("a.fvecs"), 0));
        IEnumerable<VectorSet> lazy = VectorFile.ReadChunks(PathOf("missing.fvecs"), 3);
        Assert.Throws<FileNotFoundException>(() => lazy.ToList());
    }
}
