using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using Qinco.Core;

namespace Qinco.Interop;

/// <summary>
/// The zip layout of a PyTorch file (<c>torch.save</c> since PyTorch 1.6): one top folder holding <c>data.pkl</c> (the
/// pickle), <c>data/{key}</c> (one raw little-endian storage per key), <c>version</c> and, in newer versions,
/// <c>byteorder</c>. Records are read whole, after their declared sizes are checked against the archive's length, and
/// their CRC-32 is verified (the zip reader of .NET does not).
/// </summary>
internal sealed class TorchArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly long _length;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TorchStorage> _storages = new(StringComparer.Ordinal);

    private TorchArchive(ZipArchive zip, long length, string name)
    {
        _zip = zip;
        _length = length;
        Name = name;
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            if (!_entries.TryAdd(entry.FullName, entry))
            {
                throw Error($"holds the record '{entry.FullName}' twice.");
            }
        }
        string[] pickles = [.. _entries.Keys.Where(k => k.EndsWith("/data.pkl", StringComparison.Ordinal) && k.IndexOf('/', StringComparison.Ordinal) == k.Length - 9)];
        if (pickles.Length != 1)
        {
            bool script = _entries.Keys.Any(k => k.EndsWith("/constants.pkl", StringComparison.Ordinal));
            throw Error(script ? "is a TorchScript archive (torch.jit.save); save the module itself with torch.save(model)."
                : pickles.Length == 0 ? "is a zip archive without a '<name>/data.pkl' record, so not a PyTorch file."
                : $"holds {pickles.Length} '<name>/data.pkl' records; a PyTorch file has one.");
        }
        Prefix = pickles[0][..^"data.pkl".Length];
        if (_entries.ContainsKey(Prefix + "constants.pkl"))
        {
            throw Error("is a TorchScript archive (torch.jit.save); save the module itself with torch.save(model).");
        }
        if (_entries.ContainsKey(Prefix + "byteorder"))
        {
            string order = Encoding.ASCII.GetString(Read(Prefix + "byteorder", 16));
            if (order != "little")
            {
                throw Error($"stores its tensors with byte order '{order}'; only little-endian files are read.");
            }
        }
    }

    /// <summary>The file name messages give.</summary>
    public string Name { get; }

    /// <summary>The top folder of every record, with its slash (e.g. <c>model/</c>).</summary>
    public string Prefix { get; }

    /// <summary>Opens the archive in a seekable stream (left open), recognising the formats it is not.</summary>
    public static TorchArchive Open(Stream stream, string name)
    {
        long start = stream.Position, length = stream.Length - start;
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stream.Position = start;
        if (got < 4 || magic[0] != (byte)'P' || magic[1] != (byte)'K')
        {
            string problem = got == 0 ? "is empty."
                : magic[0] == 0x80 ? "is in PyTorch's legacy (pre-1.6, or _use_new_zipfile_serialization=False) format, which is not read; load and re-save it with a current PyTorch."
                : "is not a PyTorch file: it does not start with a zip signature ('PK').";
            throw new ModelFormatException($"{name}: {problem}");
        }
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFormatException($"{name}: is not a valid zip archive: {ex.Message}", ex);
        }
        try
        {
            return new TorchArchive(zip, length, name);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>The pickle, <c>data.pkl</c>.</summary>
    public byte[] ReadPickle() => Read(Prefix + "data.pkl", _length);

    /// <summary>
    /// The storage record <c>data/{key}</c> as <paramref name="count"/> elements of <paramref name="dtype"/>, read once
    /// per key (tensors that share a storage get the same one).
    /// </summary>
    public TorchStorage Storage(string key, PyTorchDType dtype, long count)
    {
        if (_storages.TryGetValue(key, out TorchStorage? known))
        {
            return known.DType == dtype && known.Count == count ? known
                : throw Error($"names the storage '{key}' once as {known.Count} {known.DType} elements and once as {count} {dtype}.");
        }
        if (key.Length is 0 or > 64 || !key.All(char.IsAsciiLetterOrDigit))
        {
            throw Error($"names a storage '{Shorten(key)}', which is not a record key.");
        }
        string record = $"{Prefix}data/{key}";
        if (!_entries.TryGetValue(record, out ZipArchiveEntry? entry))
        {
            throw Error($"lacks the record '{record}' of a storage its pickle names.");
        }
        int size = TorchStorage.SizeOf(dtype);
        if (count < 0 || count > entry.Length / size || count * size != entry.Length)
        {
            throw Error($"names the storage '{key}' as {count} {dtype} elements ({(count < 0 ? "negative" : $"{count * size} bytes")}), but its record holds {entry.Length} bytes.");
        }
        var storage = new TorchStorage(Name, key, dtype, Read(record, _length));
        _storages.Add(key, storage);
        return storage;
    }

    public void Dispose() => _zip.Dispose();

    public ModelFormatException Error(string problem, Exception? inner = null) =>
        inner is null ? new($"{Name}: {problem}") : new($"{Name}: {problem}", inner);

    private static string Shorten(string text) => text.Length > 64 ? text[..64] + "..." : text;

    /// <summary>A whole record, at most <paramref name="limit"/> bytes, checked against the archive length and its CRC-32.</summary>
    private byte[] Read(string record, long limit)
    {
        ZipArchiveEntry entry = _entries[record];
        long length = entry.Length;
        if (length > limit || length > _length || entry.CompressedLength > _length || length > Array.MaxLength)
        {
            throw Error($"declares the record '{record}' as {length} bytes ({entry.CompressedLength} compressed) in a file of {_length} bytes: it is corrupt (PyTorch stores records uncompressed).");
        }
        byte[] bytes = new byte[length];
        try
        {
            using Stream source = entry.Open();
            int read = source.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read != length || source.ReadByte() >= 0)
            {
                throw Error($"holds {(read != length ? read.ToString(System.Globalization.CultureInfo.InvariantCulture) : "more than")} of the {length} bytes it declares for '{record}': it is truncated or corrupt.");
            }
        }
        catch (InvalidDataException ex)
        {
            throw Error($"cannot read the record '{record}': {ex.Message}", ex);
        }
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(bytes);
        if (crc != entry.Crc32)
        {
            throw Error($"is corrupt: the record '{record}' has CRC-32 0x{crc:X8}, the archive says 0x{entry.Crc32:X8}.");
        }
        return bytes;
    }
}
