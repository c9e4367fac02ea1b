using System;
using System.IO;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

/// <summary>uint8 files read and written as bytes (no float widening), packed codes as <see cref="CodeSet"/>, and the
/// element-type checks of the generic matrix writers.</summary>
public sealed class ByteAndCodeFileTests : TempFiles
{
    private static Matrix<byte> RandomBytes(int rows, int columns, int seed = 4)
    {
        var bytes = new byte[rows * columns];
        new Random(seed).NextBytes(bytes);
        bytes[0] = 0;
        bytes[^1] = 255;
        return Matrix<byte>.FromArray(bytes, columns);
    }

    private static VectorSet Widened(Matrix<byte> bytes) => VectorSet.FromArray(Array.ConvertAll(bytes.Data, b => (float)b), bytes.Columns);

    [TestCase("u8.npy", 128 + (33 * 7), Description = "a 128-byte header, then one byte per value")]
    [TestCase("u8.bvecs", 33 * (4 + 7))]
    public void UInt8Files_ReadAsBytes_OneBytePerValue(string name, int fileBytes)
    {
        Matrix<byte> bytes = RandomBytes(33, 7);
        string path = PathOf(name);
        using (FileStream file = File.Create(path))
        {
            VectorFile.Write(file, VectorFile.FormatOf(path), bytes);
        }
        Assert.That(new FileInfo(path).Length, Is.EqualTo(fileBytes));
        Matrix<byte> back = VectorFile.ReadByteMatrix(path);
        Assert.That((back.Rows, back.Columns), Is.EqualTo((33, 7)));
        Assert.That(back.Data, Is.EqualTo(bytes.Data));
        Assert.That(VectorFile.ReadByteMatrix(path, new RowRange(5, 9)).Data, Is.EqualTo(bytes.Slice(5, 4).Data));
        Assert.That(VectorFile.Read(path).Data, Is.EqualTo(Widened(bytes).Data), "the float reader still widens");
    }

    [Test]
    public void BytesWritten_AsBytes_EqualTheBytesWrittenFromFloats()
    {
        Matrix<byte> bytes = RandomBytes(20, 5);
        string fromBytes = PathOf("b.npy"), fromFloats = PathOf("f.npy");
        VectorFile.WriteNpy(fromBytes, bytes);
        VectorFile.WriteNpy(fromFloats, Widened(bytes), VectorElementType.UInt8);
        Assert.That(File.ReadAllBytes(fromBytes), Is.EqualTo(File.ReadAllBytes(fromFloats)));

        VectorFile.WriteBvecs(fromBytes = PathOf("b.bvecs"), bytes);
        VectorFile.WriteBvecs(fromFloats = PathOf("f.bvecs"), Widened(bytes));
        Assert.That(File.ReadAllBytes(fromBytes), Is.EqualTo(File.ReadAllBytes(fromFloats)));
    }

    [Test]
    public void ReadByteMatrix_OfAnotherType_NamesTheFileAndType()
    {
        string floats = PathOf("v.npy");
        VectorFile.WriteNpy(floats, VectorSet.FromArray([1f, 2f], 2));
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.ReadByteMatrix(floats));
        Assert.That(ex!.Message, Does.Contain("v.npy").And.Contain("float32").And.Contain("not uint8"));
        string ints = PathOf("i.ivecs");
        VectorFile.WriteIvecs(ints, Matrix<int>.FromArray([1, 2], 2));
        Assert.That(Assert.Throws<VectorFileException>(() => VectorFile.ReadByteMatrix(ints))!.Message, Does.Contain("int32"));
    }

    [TestCase(VectorFileFormat.Bvecs)]
    [TestCase(VectorFileFormat.Npy)]
    public void Streams_RoundTripBytes(VectorFileFormat format)
    {
        Matrix<byte> bytes = RandomBytes(9, 3);
        using var stream = new MemoryStream();
        VectorFile.Write(stream, format, bytes);
        stream.Position = 0;
        Assert.That(VectorFile.ReadByteMatrix(stream, format).Data, Is.EqualTo(bytes.Data));
    }

    [Test]
    public void GenericWriters_CheckTheElementTypeAgainstTheFormat()
    {
        using var stream = new MemoryStream();
        var ex = Assert.Throws<ArgumentException>(() => VectorFile.Write(stream, VectorFileFormat.Fvecs, new Matrix<int>(2, 2)));
        Assert.That(ex!.ParamName, Is.EqualTo("format"));
        Assert.That(ex.Message, Does.Contain("int32").And.Contain(".fvecs").And.Contain(".npy"));
        Assert.Throws<ArgumentException>(() => VectorFile.Write(stream, VectorFileFormat.Ivecs, new Matrix<long>(2, 2)));
        Assert.Throws<ArgumentException>(() => VectorFile.Write(stream, VectorFileFormat.Bvecs, new Matrix<float>(2, 2)));
        Assert.Throws<ArgumentException>(() => VectorFile.WriteNpy(stream, new Matrix<double>(2, 2)));
        Assert.Throws<ArgumentException>(() => VectorFile.Write(stream, VectorFileFormat.Bvecs, new Matrix<byte>(0, 2)), "no rows for a TEXMEX file");
        Assert.That(stream.Length, Is.Zero, "nothing is written before the checks");
    }

    [Test]
    public void GenericNpy_OfFloats_ReadsBackAsVectors()
    {
        string path = PathOf("m.npy");
        VectorFile.WriteNpy(path, Matrix<float>.FromArray([1.5f, -2f, 3f, float.MaxValue], 2));
        Assert.That(VectorFile.Read(path).Data, Is.EqualTo(new[] { 1.5f, -2f, 3f, float.MaxValue }));
    }

    // ------------------------------------------------------------ codes

    [Test]
    public void Codes_RoundTrip_AsAUInt8NpyNumPyReads()
    {
        var layout = new CodeLayout(5, 6);
        CodeSet codes = CodeSet.FromArray(RandomBytes(12, layout.CodeSize).Data, layout);
        string path = PathOf("codes.npy");
        VectorFile.WriteCodes(path, codes);

        byte[] file = File.ReadAllBytes(path);
        int headerLength = BitConverter.ToUInt16(file, 8);
        string header = System.Text.Encoding.ASCII.GetString(file, 10, headerLength);
        Assert.That(header.TrimEnd(), Is.EqualTo("{'descr': '|u1', 'fortran_order': False, 'shape': (12, 4), }"));
        Assert.That(file[(10 + headerLength)..], Is.EqualTo(codes.Data), "the codes follow the header byte for byte");

        CodeSet back = VectorFile.ReadCodes(path, layout);
        Assert.That(back.Layout, Is.EqualTo(layout));
        Assert.That((back.Count, back.CodeSize), Is.EqualTo((12, 4)));
        Assert.That(back.Data, Is.EqualTo(codes.Data));
        Assert.That(VectorFile.ReadCodes(path, layout, RowRange.Parse("10:")).Data, Is.EqualTo(codes.Slice(10, 2).Data));
    }

    [Test]
    public void Codes_ZeroRows_RoundTrip()
    {
        var layout = new CodeLayout(8, 8);
        string path = PathOf("none.npy");
        VectorFile.WriteCodes(path, new CodeSet(0, layout));
        Assert.That(VectorFile.ReadCodes(path, layout).Count, Is.Zero);
    }

    [Test]
    public void Codes_AlsoReadFromBvecs_AndStreams()
    {
        var layout = new CodeLayout(3, 8);
        CodeSet codes = CodeSet.FromArray(RandomBytes(6, 3).Data, layout);
        string path = PathOf("codes.bvecs");
        VectorFile.WriteBvecs(path, codes);
        Assert.That(VectorFile.ReadCodes(path, layout).Data, Is.EqualTo(codes.Data));

        using var stream = new MemoryStream();
        VectorFile.WriteNpy(stream, codes);
        stream.Position = 0;
        Assert.That(VectorFile.ReadCodes(stream, VectorFileFormat.Npy, layout).Data, Is.EqualTo(codes.Data));
    }

    [Test]
    public void Codes_OfAnotherLayoutOrType_AreRefusedNamingTheFile()
    {
        string path = PathOf("c.npy");
        VectorFile.WriteCodes(path, new CodeSet(4, new CodeLayout(4, 8)));
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.ReadCodes(path, new CodeLayout(3, 8)));
        Assert.That(ex!.FilePath, Is.EqualTo(path));
        Assert.That(ex.Problem, Does.Contain("codes of 4 bytes").And.Contain("3 steps of 8 bits").And.Contain("3-byte codes"));

        string floats = PathOf("f.npy");
        VectorFile.WriteNpy(floats, VectorSet.FromArray([1f, 2f, 3f, 4f], 4));
        Assert.That(Assert.Throws<VectorFileException>(() => VectorFile.ReadCodes(floats, new CodeLayout(4, 8)))!.Message,
            Does.Contain("f.npy").And.Contain("'<f4'").And.Contain("not uint8"));
        Assert.Throws<ArgumentNullException>(() => VectorFile.ReadCodes(path, null!));
    }
}
