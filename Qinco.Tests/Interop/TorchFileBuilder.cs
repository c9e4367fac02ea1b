using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace Qinco.Tests.Interop;

/// <summary>Writes PyTorch-style zip archives and pickles by hand, for the reader's hostile-input tests.</summary>
internal static class TorchFileBuilder
{
    /// <summary>The records of a zip archive, in order.</summary>
    public static List<(string Name, byte[] Data)> Records(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var records = new List<(string, byte[])>();
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            using Stream stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            records.Add((entry.FullName, copy.ToArray()));
        }
        return records;
    }

    /// <summary>A zip of stored records with correct CRCs (as torch.save writes them).</summary>
    public static byte[] Zip(IEnumerable<(string Name, byte[] Data)> records)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] data) in records)
            {
                using Stream stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                stream.Write(data);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>An archive <c>t/</c> holding <paramref name="pickle"/> and the given storage records.</summary>
    public static byte[] Archive(byte[] pickle, params (string Key, byte[] Data)[] storages)
    {
        var records = new List<(string, byte[])> { ("t/data.pkl", pickle) };
        foreach ((string key, byte[] data) in storages)
        {
            records.Add(($"t/data/{key}", data));
        }
        records.Add(("t/version", "3\n"u8.ToArray()));
        return Zip(records);
    }

    /// <summary>A pickle (protocol 2) of <c>{"w": tensor}</c> for a float32 tensor on storage <paramref name="key"/>.</summary>
    public static byte[] TensorDict(string key, long numel, long offset, long[] size, long[] stride)
    {
        var p = new Pickle();
        p.Op(0x80).Op(2).Op('}').Str("w").Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        p.Op('(').Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
        p.Int(offset).Op('(');
        foreach (long s in size)
        {
            p.Int(s);
        }
        p.Op('t').Op('(');
        foreach (long s in stride)
        {
            p.Int(s);
        }
        p.Op('t').Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R').Op('s').Op('.');
        return p.ToArray();
    }

    /// <summary>Emits pickle opcodes.</summary>
    public sealed class Pickle
    {
        private readonly MemoryStream _bytes = new();

        public Pickle Op(int opcode)
        {
            _bytes.WriteByte((byte)opcode);
            return this;
        }

        public Pickle Raw(byte[] bytes)
        {
            _bytes.Write(bytes);
            return this;
        }

        public Pickle Str(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            Op('X').Raw(BitConverter.GetBytes(utf8.Length)).Raw(utf8);
            return this;
        }

        public Pickle Int(long value) => value is >= int.MinValue and <= int.MaxValue
            ? Op('J').Raw(BitConverter.GetBytes((int)value))
            : Op(0x8a).Op(8).Raw(BitConverter.GetBytes(value));

        public Pickle Global(string module, string name) => Op('c').Raw(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));

        public byte[] ToArray() => _bytes.ToArray();
    }
}
