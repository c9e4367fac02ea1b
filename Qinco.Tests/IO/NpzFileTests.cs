using System;
using System.IO;
using System.IO.Compression;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Tests.Interop;

namespace Qinco.Tests.IO;

/// <summary><see cref="NpzFile"/> on NumPy's own archives (stored and deflated) and on corrupt ones.</summary>
public sealed class NpzFileTests : TempFiles
{
    [TestCase("qinco1.npz")]
    [TestCase("ivf_qinco1.npz")] // np.savez_compressed: deflated members
    public void NumPy_archives_read(string file)
    {
        using NpzFile npz = NpzFile.Open(PyTorchFixtures.PathOf(file));
        VectorSet x = npz.ReadVectors("x"), decoded = npz.ReadVectors("decoded");
        Matrix<long> codes = npz.ReadLongMatrix("codes");
        Assert.Multiple(() =>
        {
            Assert.That(npz.Names, Is.EqualTo(new[] { "codes", "decoded", "x" }));
            Assert.That(x.Count, Is.EqualTo(48));
            Assert.That(x.Dimension, Is.EqualTo(8));
            Assert.That(decoded.Count, Is.EqualTo(48));
            Assert.That(codes.Rows, Is.EqualTo(48));
            Assert.That(npz.ReadIntMatrix("codes").Data, Is.EqualTo(Array.ConvertAll(codes.Data, c => (int)c)));
            Assert.That(() => npz.ReadVectors("codes"), Throws.TypeOf<VectorFileException>().With.Message.Contains("[codes.npy]"));
            Assert.That(() => npz.ReadVectors("nope"), Throws.TypeOf<VectorFileException>().With.Message.Contains("holds no array 'nope'").And.Message.Contains("'x'"));
        });
    }

    [Test]
    public void Scalars_and_vectors_read_as_one_column()
    {
        string path = PathOf("meta.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            Add(zip, "n_parts.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", BitConverter.GetBytes(3L));
            Add(zip, "ids.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
        }
        using NpzFile npz = NpzFile.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(npz.ReadInt64("n_parts"), Is.EqualTo(3));
            Assert.That(npz.ReadLongMatrix("ids").Data, Is.EqualTo(new long[] { 1, 2, 3 }));
            Assert.That(npz.ReadLongMatrix("ids").Columns, Is.EqualTo(1));
            Assert.That(() => npz.ReadInt64("ids"), Throws.TypeOf<VectorFileException>().With.Message.Contains("3 values"));
        });
    }

    [Test]
    public void Corrupt_archives_name_the_file()
    {
        byte[] bytes = File.ReadAllBytes(PyTorchFixtures.PathOf("ivf_qinco1.npz"));
        string truncated = PathOf("truncated.npz"), garbage = PathOf("garbage.npz"), flipped = PathOf("flipped.npz");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        File.WriteAllBytes(garbage, new byte[100]);
        byte[] corrupt = (byte[])bytes.Clone();
        corrupt[200] ^= 0xFF; // inside the first deflated member
        File.WriteAllBytes(flipped, corrupt);
        Assert.Multiple(() =>
        {
            Assert.That(() => NpzFile.Open(truncated).Dispose(), Throws.TypeOf<VectorFileException>().With.Message.StartsWith(truncated));
            Assert.That(() => NpzFile.Open(garbage).Dispose(), Throws.TypeOf<VectorFileException>().With.Message.StartsWith(garbage));
            Assert.That(() =>
            {
                using NpzFile npz = NpzFile.Open(flipped);
                foreach (string name in npz.Names)
                {
                    npz.ReadLongMatrix(name);
                }
            }, Throws.TypeOf<VectorFileException>().With.Message.StartsWith(flipped));
        });
    }

    private static void Add(ZipArchive zip, string name, string header, byte[] data)
    {
        using Stream stream = zip.CreateEntry(name).Open();
        string padded = header.PadRight(64 - 10 - 1) + "\n";
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)padded.Length, 0]);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(padded));
        stream.Write(data);
    }
}
