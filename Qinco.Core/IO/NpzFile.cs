using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.IO.Hashing;
using System.Linq;
using System.Numerics;

namespace Qinco.Core.IO;

/// <summary>
/// A NumPy <c>.npz</c> archive: a zip of <c>.npy</c> arrays, as <c>np.savez</c> (stored) and <c>np.savez_compressed</c>
/// (deflate) write them, e.g. the reference's encoded sets (<c>codes</c>, int64 [n, M], ALGORITHM.md §7.2) or the
/// expected outputs of Qinco.Interop's test fixtures. Each array is read with <see cref="VectorFile"/>'s <c>.npy</c>
/// reader, so the same element types and checks apply ('&lt;f4', '|u1', '&lt;i4', '&lt;i8'; C order; little-endian);
/// besides 2-D arrays, a 1-D array of n values reads as n rows of one column and a 0-D scalar as one row of one column.
/// </summary>
/// <remarks>
/// Nothing is allocated from a size the archive declares before it is checked against the archive's length (a
/// member may inflate to at most deflate's bound of 1032 times its compressed size); a member is decompressed into
/// memory, growing with the bytes that actually arrive, and its CRC-32 is verified (the zip reader of .NET does not). A
/// corrupt archive, member or CRC throws
/// <see cref="VectorFileException"/> naming the archive and the member. Not thread-safe: read from one thread at a time.
/// </remarks>
public sealed class NpzFile : IDisposable
{
    /// <summary>Deflate expands at most about 1032:1; a member declaring more is corrupt (or a zip bomb).</summary>
    private const long MaxInflation = 1032;

    private readonly ZipArchive _archive;
    private readonly string _name;
    private readonly long _archiveLength;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);

    private NpzFile(Stream stream, string name, bool leaveOpen)
    {
        _name = name;
        _archiveLength = stream.Length - stream.Position;
        try
        {
            _archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen);
        }
        catch (InvalidDataException ex)
        {
            throw FileLayout.Error(name, $"is not a valid .npz (zip) archive: {ex.Message}", ex);
        }
        foreach (ZipArchiveEntry entry in _archive.Entries)
        {
            if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
            {
                continue;
            }
            string array = entry.FullName[..^4];
            if (!_entries.TryAdd(array, entry))
            {
                _archive.Dispose();
                throw FileLayout.Error(name, $"holds the array '{array}' twice.");
            }
        }
        Names = [.. _entries.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The arrays' names (the member names without <c>.npy</c>), in ordinal order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Opens an <c>.npz</c> file; dispose the result to close it.</summary>
    /// <exception cref="VectorFileException">The file is not a zip archive, or names an array twice.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static NpzFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream = File.OpenRead(path);
        try
        {
            return new NpzFile(stream, path, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Opens an <c>.npz</c> archive held by a seekable stream (from its current position).</summary>
    /// <param name="stream">The archive's bytes.</param>
    /// <param name="name">The name messages give the archive.</param>
    /// <param name="leaveOpen">Whether disposing the result leaves <paramref name="stream"/> open.</param>
    /// <exception cref="VectorFileException">The data is not a zip archive, or names an array twice.</exception>
    /// <exception cref="ArgumentException">The stream cannot read or seek.</exception>
    public static NpzFile Open(Stream stream, string name = "<stream>", bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException($"Reading an .npz archive needs a readable, seekable stream ({name} is not).", nameof(stream));
        }
        return new NpzFile(stream, name, leaveOpen);
    }

    /// <summary>Reads a float32 (or uint8, widened) array as vectors, one per row.</summary>
    /// <exception cref="VectorFileException">No such array, or it is corrupt or holds integers other than uint8.</exception>
    public VectorSet ReadVectors(string array)
    {
        Matrix<float> values = Read<float>(array);
        return VectorSet.FromArray(values.Data, values.Columns);
    }

    /// <summary>Reads an integer array (int64, int32 or uint8) as int64, e.g. the reference's codes [n, M].</summary>
    /// <exception cref="VectorFileException">No such array, or it is corrupt or holds floats.</exception>
    public Matrix<long> ReadLongMatrix(string array) => Read<long>(array);

    /// <summary>Reads an integer array as int32; a value outside int32's range is reported.</summary>
    /// <exception cref="VectorFileException">No such array, or it is corrupt, holds floats or a value beyond int32.</exception>
    public Matrix<int> ReadIntMatrix(string array) => Read<int>(array);

    /// <summary>Reads a scalar (or one-element) integer array, e.g. the <c>n_parts</c> of a reference encoded set.</summary>
    /// <exception cref="VectorFileException">No such array, or it is corrupt, holds floats or more than one value.</exception>
    public long ReadInt64(string array)
    {
        Matrix<long> values = Read<long>(array);
        return values.Data.Length == 1 ? values.Data[0]
            : throw FileLayout.Error(MemberName(array), $"holds {values.Data.Length} values, not one scalar.");
    }

    /// <inheritdoc/>
    public void Dispose() => _archive.Dispose();

    private Matrix<T> Read<T>(string array)
        where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(array);
        if (!_entries.TryGetValue(array, out ZipArchiveEntry? entry))
        {
            throw FileLayout.Error(_name, $"holds no array '{array}'; it holds {(Names.Count == 0 ? "none" : string.Join(", ", Names.Select(n => $"'{n}'")))}.");
        }
        string member = MemberName(array);
        using MemoryStream bytes = Inflate(entry, member);
        return VectorFile.ReadNpyOfAnyRank<T>(bytes, member);
    }

    private string MemberName(string array) => $"{_name}[{array}.npy]";

    /// <summary>The member's bytes, checked against its declared sizes and the archive length while they are read.</summary>
    private MemoryStream Inflate(ZipArchiveEntry entry, string member)
    {
        long declared = entry.Length, compressed = entry.CompressedLength;
        if (compressed > _archiveLength || declared > Array.MaxLength || declared > (MaxInflation * compressed) + 1024)
        {
            throw FileLayout.Error(member, $"declares {declared} bytes ({compressed} compressed) in an archive of {_archiveLength} bytes: the archive is corrupt.");
        }
        var result = new MemoryStream();
        try
        {
            using Stream source = entry.Open();
            byte[] buffer = new byte[(int)Math.Min(1 << 16, declared + 1)];
            int read;
            while ((read = source.Read(buffer)) > 0)
            {
                if (result.Length + read > declared)
                {
                    throw FileLayout.Error(member, $"holds more than the {declared} bytes it declares: the archive is corrupt.");
                }
                result.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException ex)
        {
            result.Dispose();
            throw FileLayout.Error(member, $"cannot be read: {ex.Message}", ex);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        if (result.Length != declared)
        {
            result.Dispose();
            throw FileLayout.Error(member, $"holds {result.Length} of the {declared} bytes it declares: the archive is truncated or corrupt.");
        }
        uint crc = Crc32.HashToUInt32(result.GetBuffer().AsSpan(0, (int)result.Length));
        if (crc != entry.Crc32)
        {
            result.Dispose();
            throw FileLayout.Error(member, $"is corrupt: its CRC-32 is 0x{crc:X8}, the archive says 0x{entry.Crc32:X8}.");
        }
        result.Position = 0;
        return result;
    }
}
