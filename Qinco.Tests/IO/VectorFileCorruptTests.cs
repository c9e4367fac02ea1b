using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

/// <summary>Every unreadable file throws <see cref="VectorFileException"/> naming the file and the problem.</summary>
public sealed class VectorFileCorruptTests : TempFiles
{
    private static byte[] Texmex(int rows, int dimension, int elementSize, Func<int, int>? dimensionOfRow = null)
    {
        using var stream = new MemoryStream();
        Span<byte> head = stackalloc byte[4];
        for (int r = 0; r < rows; r++)
        {
            int d = dimensionOfRow?.Invoke(r) ?? dimension;
            BinaryPrimitives.WriteInt32LittleEndian(head, d);
            stream.Write(head);
            for (int j = 0; j < d * elementSize; j++)
            {
                stream.WriteByte((byte)(r + j));
            }
        }
        return stream.ToArray();
    }

    private static byte[] Npy(string dict, int dataBytes, byte major = 1)
    {
        int preamble = major == 1 ? 10 : 12;
        int headerLength = ((preamble + dict.Length + 1 + 63) / 64 * 64) - preamble;
        var bytes = new byte[preamble + headerLength + dataBytes];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 }.CopyTo(bytes, 0);
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        }
        string padded = dict.PadRight(headerLength - 1) + "\n";
        Encoding.UTF8.GetBytes(padded).CopyTo(bytes, preamble);
        return bytes;
    }

    private static string Dict(string descr, string shape, string fortran = "False") =>
        $"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}";

    private string Make(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertError(string path, TestDelegate read, params string[] problem)
    {
        var ex = Assert.Throws<VectorFileException>(read);
        Assert.That(ex!.Message, Does.Contain(Path.GetFileName(path)), "the message names the file");
        foreach (string p in problem)
        {
            Assert.That(ex.Message, Does.Contain(p).IgnoreCase, "the message names the problem");
        }
        Assert.That(ex.FilePath, Is.EqualTo(path));
        Assert.That(ex, Is.InstanceOf<IOException>());
    }

    private void AssertEveryReadFails(string path, params string[] problem)
    {
        AssertError(path, () => VectorFile.GetInfo(path), problem);
        AssertError(path, () => VectorFile.Read(path), problem);
        AssertError(path, () => VectorFile.ReadChunks(path, 2).ToList(), problem);
    }

    // ------------------------------------------------------------ TEXMEX

    [TestCase("t.fvecs", 4)]
    [TestCase("t.bvecs", 1)]
    [TestCase("t.ivecs", 4)]
    public void TruncatedMidRow(string name, int size)
    {
        byte[] full = Texmex(5, 8, size);
        string path = Make(name, full[..^3]);
        var ex = Assert.Throws<VectorFileException>(() => VectorFile.GetInfo(path));
        Assert.That(ex!.Message, Does.Contain(name).And.Contain("truncated").And.Contain("not a multiple").And.Contain("partial row 4"));
        Assert.Throws<VectorFileException>(() => VectorFile.ReadIntMatrix(path));
    }

    [Test]
    public void TruncatedMidHeader_Texmex()
    {
        string path = Make("h.fvecs", [8, 0]);
        AssertEveryReadFails(path, "truncated", "header");
    }

    [Test]
    public void TruncatedMidHeader_OfALaterRow()
    {
        // two full rows then 2 bytes of the third row's dimension
        byte[] bytes = Texmex(2, 3, 4).Concat(new byte[] { 3, 0 }).ToArray();
        string path = Make("h2.fvecs", bytes);
        AssertEveryReadFails(path, "truncated", "not a multiple");
    }

    [Test]
    public void EmptyFile()
    {
        string path = Make("e.fvecs", []);
        AssertEveryReadFails(path, "empty");
    }

    [Test]
    public void InconsistentDimensionAtRow3_SizeNotAMultiple()
    {
        string path = Make("inc.fvecs", Texmex(6, 4, 4, r => r == 3 ? 5 : 4));
        AssertEveryReadFails(path, "inconsistent", "row 3", "dimension 5");
    }

    [Test]
    public void InconsistentDimensionAtRow3_SizeStillAMultiple()
    {
        // row 3 declares 2 values, row 4 declares 6: the size is that of six 4-value rows.
        string path = Make("inc2.fvecs", Texmex(6, 4, 4, r => r switch { 3 => 2, 4 => 6, _ => 4 }));
        Assert.That(VectorFile.GetInfo(path).Rows, Is.EqualTo(6), "the header alone looks consistent");
        AssertError(path, () => VectorFile.Read(path), "inconsistent", "row 3", "dimension 2");
        AssertError(path, () => VectorFile.ReadChunks(path, 2).ToList(), "row 3");
        Assert.That(VectorFile.Read(path, new RowRange(0, 3)).Count, Is.EqualTo(3), "rows before it are readable");
        AssertError(path, () => VectorFile.Read(path, new RowRange(3, 4)), "row 3");
    }

    [TestCase(0)]
    [TestCase(-7)]
    public void NonPositiveDimension(int d)
    {
        byte[] bytes = Texmex(3, 4, 4);
        BinaryPrimitives.WriteInt32LittleEndian(bytes, d);
        string path = Make("z.fvecs", bytes);
        AssertEveryReadFails(path, "dimension " + d);
    }

    [Test]
    public void AbsurdDimension_IsAnError_NotAnAllocation()
    {
        byte[] bytes = new byte[100];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, int.MaxValue);
        string path = Make("absurd.fvecs", bytes);
        AssertEveryReadFails(path, "dimension 2147483647", "100 bytes");
    }

    // ------------------------------------------------------------ NumPy

    [Test]
    public void Npy_BadMagic()
    {
        byte[] bytes = Npy(Dict("<f4", "(2, 2)"), 16);
        bytes[1] = (byte)'X';
        string path = Make("m.npy", bytes);
        AssertEveryReadFails(path, "magic");
    }

    [Test]
    public void Npy_TooShortForTheMagic()
    {
        string path = Make("s.npy", [0x93, (byte)'N']);
        AssertEveryReadFails(path, "truncated", "2 bytes");
        string wrong = Make("w.npy", [(byte)'P', (byte)'K']);
        AssertEveryReadFails(wrong, "magic", "504B");
        string empty = Make("e.npy", []);
        AssertEveryReadFails(empty, "not a .npy file");
    }

    [TestCase("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), ")]
    [TestCase("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 2)}")]
    [TestCase("not a dict")]
    [TestCase("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2x), }")]
    public void Npy_UnparsableHeader(string dict)
    {
        string path = Make("p.npy", Npy(dict, 16));
        AssertEveryReadFails(path, "unparsable", ".npy header");
    }

    [Test]
    public void Npy_HeaderWithoutShape()
    {
        string path = Make("ns.npy", Npy("{'descr': '<f4', 'fortran_order': False}", 16));
        AssertEveryReadFails(path, "'shape'");
    }

    [Test]
    public void Npy_TruncatedMidHeader()
    {
        byte[] bytes = Npy(Dict("<f4", "(2, 2)"), 16);
        string path = Make("th.npy", bytes[..40]);
        AssertEveryReadFails(path, "truncated", "header");
        string path2 = Make("th2.npy", bytes[..7]);
        AssertEveryReadFails(path2, "truncated");
    }

    [Test]
    public void Npy_TruncatedData()
    {
        byte[] bytes = Npy(Dict("<f4", "(3, 2)"), 24);
        string path = Make("td.npy", bytes[..^5]);
        AssertEveryReadFails(path, "truncated", "(3, 2)", "19 bytes");
    }

    [Test]
    public void Npy_HugeShape_IsAnError_NotAnAllocation()
    {
        string path = Make("huge.npy", Npy(Dict("<f4", "(1099511627776, 128)"), 36));
        AssertEveryReadFails(path, "truncated", "1099511627776");
    }

    [Test]
    public void Npy_NegativeRows_IsNamedAsSuch()
    {
        string path = Make("neg.npy", Npy(Dict("<f4", "(-3, 128)"), 0));
        AssertEveryReadFails(path, "(-3, 128)", "negative number of rows");
    }

    [Test]
    public void Npy_FortranOrder()
    {
        string path = Make("f.npy", Npy(Dict("<f4", "(2, 2)", "True"), 16));
        AssertEveryReadFails(path, "fortran");
    }

    [TestCase(">f4")]
    [TestCase(">i4")]
    public void Npy_BigEndian(string descr)
    {
        string path = Make("be.npy", Npy(Dict(descr, "(2, 2)"), 16));
        AssertEveryReadFails(path, "big-endian", descr);
    }

    [TestCase("<f8")]
    [TestCase("<f2")]
    [TestCase("|b1")]
    [TestCase("<u2")]
    public void Npy_UnsupportedDtype(string descr)
    {
        string path = Make("dt.npy", Npy(Dict(descr, "(2, 2)"), 64));
        AssertEveryReadFails(path, "unsupported dtype", descr);
        AssertError(path, () => VectorFile.ReadIntMatrix(path), descr);
    }

    [Test]
    public void Npy_StructuredDtype()
    {
        string path = Make("st.npy", Npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2, 2), }", 64));
        AssertEveryReadFails(path, "unsupported dtype");
    }

    [TestCase("(2, 3, 4)", "3-D")]
    [TestCase("(6,)", "1-D")]
    [TestCase("()", "0-D")]
    public void Npy_NotTwoDimensional(string shape, string what)
    {
        string path = Make("sh.npy", Npy(Dict("<f4", shape), 96));
        AssertEveryReadFails(path, what, "2-D");
    }

    [Test]
    public void Npy_ZeroColumns()
    {
        string path = Make("zc.npy", Npy(Dict("<f4", "(3, 0)"), 0));
        AssertEveryReadFails(path, "(3, 0)", "dimension");
    }

    [Test]
    public void Npy_UnsupportedVersion()
    {
        byte[] bytes = Npy(Dict("<f4", "(2, 2)"), 16);
        bytes[6] = 4;
        string path = Make("v.npy", bytes);
        AssertEveryReadFails(path, "version 4.0");
    }

    // ------------------------------------------------------------ valid hand-made .npy files

    [TestCase((byte)1)]
    [TestCase((byte)2)]
    [TestCase((byte)3)]
    public void Npy_Versions_AreRead(byte major)
    {
        byte[] bytes = Npy(Dict("<f4", "(2, 3)"), 24, major);
        int offset = bytes.Length - 24;
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset + (4 * i)), i * 1.5f);
        }
        string path = Make($"v{major}.npy", bytes);
        VectorSet set = VectorFile.Read(path);
        Assert.That((set.Count, set.Dimension), Is.EqualTo((2, 3)));
        Assert.That(set.Data, Is.EqualTo(new[] { 0f, 1.5f, 3f, 4.5f, 6f, 7.5f }));
    }

    [Test]
    public void Npy_HeaderVariants_AreRead()
    {
        // key order, double quotes, Python 2 long literals, '<u1', no trailing comma, trailing bytes after the data
        byte[] bytes = Npy("{\"shape\": (2L, 2L), \"fortran_order\": False, \"descr\": \"<u1\"}", 4 + 3);
        bytes.AsSpan(bytes.Length - 7, 4).CopyFrom([1, 2, 3, 255]);
        string path = Make("var.npy", bytes);
        Assert.That(VectorFile.Read(path).Data, Is.EqualTo(new[] { 1f, 2f, 3f, 255f }));
    }
}

internal static class SpanExtensions
{
    public static void CopyFrom(this Span<byte> span, byte[] values) => values.CopyTo(span);
}
