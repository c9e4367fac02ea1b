using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace Qinco.Core.IO;

/// <summary>Returns the index of the first value that does not fit the destination type, or -1.</summary>
internal delegate int RowDecoder<T>(ReadOnlySpan<byte> source, Span<T> destination);

/// <summary>
/// Where the rows of a vector file lie in a seekable stream, parsed from its header and checked against the stream
/// length, so nothing is allocated from an unchecked size.
/// </summary>
internal sealed record FileLayout(
    string Name, VectorFileFormat Format, VectorElementType ElementType, long Rows, int Columns, long DataStart, int PrefixBytes)
{
    /// <summary>Bytes read per block when reading rows (a whole row when it is larger).</summary>
    private const int BlockBytes = 1 << 20;

    public long RowBytes => PrefixBytes + ((long)Columns * SizeOf(ElementType));

    public VectorFileInfo Info => new(Format, ElementType, Rows, Columns);

    public static int SizeOf(VectorElementType type) => type switch
    {
        VectorElementType.UInt8 => 1,
        VectorElementType.Float32 or VectorElementType.Int32 => 4,
        VectorElementType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown element type."),
    };

    /// <summary>The element type a file stores for <typeparamref name="T"/>: float, byte, int or long.</summary>
    /// <exception cref="ArgumentException">Another type.</exception>
    public static VectorElementType ElementTypeOf<T>() =>
        typeof(T) == typeof(float) ? VectorElementType.Float32
        : typeof(T) == typeof(byte) ? VectorElementType.UInt8
        : typeof(T) == typeof(int) ? VectorElementType.Int32
        : typeof(T) == typeof(long) ? VectorElementType.Int64
        : throw new ArgumentException($"Vector files hold float, byte, int or long values, not {typeof(T).Name}.", nameof(T));

    /// <summary>The element type of a TEXMEX format: float32, uint8 or int32.</summary>
    public static VectorElementType TexmexType(VectorFileFormat format) => format switch
    {
        VectorFileFormat.Fvecs => VectorElementType.Float32,
        VectorFileFormat.Bvecs => VectorElementType.UInt8,
        VectorFileFormat.Ivecs => VectorElementType.Int32,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown vector file format."),
    };

    /// <summary>The type's name in messages: "float32", "uint8", "int32" or "int64".</summary>
    public static string Describe(VectorElementType type) => type.ToString().ToLowerInvariant();

    /// <summary>The format's extension: ".fvecs", ".bvecs", ".ivecs" or ".npy".</summary>
    public static string Extension(VectorFileFormat format) => "." + format.ToString().ToLowerInvariant();

    public static VectorFileException Error(string name, string problem, Exception? inner = null) => new(name, problem, inner);

    /// <summary>Parses the header at the stream's current position.</summary>
    /// <param name="stream">The file, positioned at its start.</param>
    /// <param name="name">The name messages give the file.</param>
    /// <param name="format">Its format.</param>
    /// <param name="allowLowerRanks">Whether a 1-D or 0-D <c>.npy</c> array reads as one column (see <see cref="NpyHeader"/>).</param>
    public static FileLayout Parse(Stream stream, string name, VectorFileFormat format, bool allowLowerRanks = false)
    {
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException($"Reading a vector file needs a readable, seekable stream ({name} is not).", nameof(stream));
        }
        return format == VectorFileFormat.Npy ? ParseNpy(stream, name, allowLowerRanks) : ParseTexmex(stream, name, format, TexmexType(format));
    }

    private static FileLayout ParseTexmex(Stream stream, string name, VectorFileFormat format, VectorElementType type)
    {
        string ext = Extension(format);
        long start = stream.Position;
        long length = stream.Length - start;
        if (length == 0)
        {
            throw Error(name, $"is empty: a {ext} file needs at least one row to give the dimension.");
        }
        if (length < 4)
        {
            throw Error(name, $"is truncated in the header of row 0: it holds {length} of the 4 bytes of the dimension.");
        }
        Span<byte> head = stackalloc byte[4];
        stream.ReadExactly(head);
        int d = BinaryPrimitives.ReadInt32LittleEndian(head);
        if (d <= 0)
        {
            throw Error(name, $"has a corrupt header: row 0 declares dimension {d}, but a dimension must be at least 1 (is it really a {ext} file?).");
        }
        int size = SizeOf(type);
        long rowBytes = 4 + ((long)d * size);
        if (rowBytes > length)
        {
            throw Error(name, $"is truncated or has a corrupt header: row 0 declares dimension {d}, i.e. {rowBytes} bytes per row, but the file holds only {length} bytes.");
        }
        if (rowBytes > Array.MaxLength)
        {
            throw Error(name, $"row 0 declares dimension {d}, whose {rowBytes}-byte rows are too large to read.");
        }
        long fullRows = length / rowBytes;
        long rest = length % rowBytes;
        if (rest != 0)
        {
            // A size that is not a multiple of the row is either a partial last row or rows of another dimension:
            // name the first inconsistent row when there is one.
            Span<byte> prefix = stackalloc byte[4];
            for (long row = 1; row < fullRows; row++)
            {
                stream.Position = start + (row * rowBytes);
                stream.ReadExactly(prefix);
                int dr = BinaryPrimitives.ReadInt32LittleEndian(prefix);
                if (dr != d)
                {
                    throw InconsistentRow(name, row, dr, d);
                }
            }
            throw Error(name, $"is truncated mid-row: its size of {length} bytes is not a multiple of the {rowBytes}-byte row (4-byte dimension + {d} x {Describe(type)}); the last {rest} bytes are a partial row {fullRows}.");
        }
        stream.Position = start;
        return new FileLayout(name, format, type, fullRows, d, start, 4);
    }

    public static VectorFileException InconsistentRow(string name, long row, int declared, int expected) =>
        Error(name, $"has inconsistent dimensions: row {row} declares dimension {declared}, but row 0 declares {expected}.");

    private static FileLayout ParseNpy(Stream stream, string name, bool allowLowerRanks)
    {
        long start = stream.Position;
        long length = stream.Length - start;
        NpyHeader header = NpyHeader.Read(stream, name, length, allowLowerRanks);
        long dataStart = start + header.DataOffset;
        long available = length - header.DataOffset;
        long rowBytes = (long)header.Columns * SizeOf(header.ElementType);
        if (rowBytes > Array.MaxLength)
        {
            throw Error(name, $"has shape ({header.Rows}, {header.Columns}), whose {rowBytes}-byte rows are too large to read.");
        }
        if (header.Rows > available / rowBytes)
        {
            throw Error(name, $"is truncated: its header declares shape ({header.Rows}, {header.Columns}) of {Describe(header.ElementType)}, i.e. {header.Rows} rows of {rowBytes} bytes, but only {available} bytes of data follow the header.");
        }
        return new FileLayout(name, VectorFileFormat.Npy, header.ElementType, header.Rows, header.Columns, dataStart, 0);
    }

    /// <summary>Checks <paramref name="range"/> against the file and returns its first row and row count.</summary>
    public (long Start, long Count) Resolve(RowRange? range)
    {
        RowRange r = range ?? RowRange.All;
        if (r.Start > Rows || (r.End is int e && e > Rows))
        {
            throw Error(Name, $"has {Rows} rows, so the row range {r} is outside the file.");
        }
        long end = r.End ?? Rows;
        return (r.Start, end - r.Start);
    }

    /// <summary>Checks that <paramref name="rows"/> rows fit one array and returns the value count.</summary>
    public int ArrayLength(long rows)
    {
        long total = rows * Columns;
        if (total > Array.MaxLength)
        {
            throw Error(Name, $"{rows} rows x {Columns} values are too many to hold in one array; read a row range or use ReadChunks.");
        }
        return (int)total;
    }

    /// <summary>Reads rows <c>[firstRow, firstRow + rowCount)</c> into <paramref name="destination"/>, seeking to the first.</summary>
    public void ReadRows<T>(Stream stream, long firstRow, int rowCount, Span<T> destination, RowDecoder<T> decode)
    {
        if (rowCount == 0)
        {
            return;
        }
        long rowBytes = RowBytes;
        stream.Position = DataStart + (firstRow * rowBytes);
        int rowsPerBlock = (int)Math.Clamp(BlockBytes / rowBytes, 1, rowCount);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)(rowsPerBlock * rowBytes));
        try
        {
            int done = 0;
            while (done < rowCount)
            {
                int n = Math.Min(rowsPerBlock, rowCount - done);
                Span<byte> block = buffer.AsSpan(0, (int)(n * rowBytes));
                long blockRow = firstRow + done;
                try
                {
                    stream.ReadExactly(block);
                }
                catch (EndOfStreamException ex)
                {
                    throw Error(Name, $"is truncated: it ended while reading rows {blockRow}..{blockRow + n - 1} (did it shrink while being read?).", ex);
                }
                DecodeBlock(block, blockRow, n, destination.Slice(done * Columns, n * Columns), decode);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads rows <c>[firstRow, firstRow + rowCount)</c> into <paramref name="destination"/> with positional reads, which
    /// do not move any file position: any number of threads may read through one handle at once.
    /// </summary>
    public void ReadRows<T>(SafeFileHandle handle, long firstRow, int rowCount, Span<T> destination, RowDecoder<T> decode)
    {
        long rowBytes = RowBytes;
        int rowsPerBlock = (int)Math.Clamp(BlockBytes / rowBytes, 1, Math.Max(rowCount, 1));
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)(rowsPerBlock * rowBytes));
        try
        {
            for (int done = 0; done < rowCount;)
            {
                int n = Math.Min(rowsPerBlock, rowCount - done);
                Span<byte> block = buffer.AsSpan(0, (int)(n * rowBytes));
                long blockRow = firstRow + done;
                for (int read = 0; read < block.Length;)
                {
                    int got = RandomAccess.Read(handle, block[read..], DataStart + (blockRow * rowBytes) + read);
                    if (got == 0)
                    {
                        throw Error(Name, $"is truncated: it ended while reading rows {blockRow}..{blockRow + n - 1} (did it shrink while being read?).");
                    }
                    read += got;
                }
                DecodeBlock(block, blockRow, n, destination.Slice(done * Columns, n * Columns), decode);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks the TEXMEX prefix of each of <paramref name="rowCount"/> rows read in <paramref name="block"/> and decodes their values.</summary>
    private void DecodeBlock<T>(ReadOnlySpan<byte> block, long blockRow, int rowCount, Span<T> destination, RowDecoder<T> decode)
    {
        int rowBytes = (int)RowBytes;
        for (int i = 0; i < rowCount; i++)
        {
            ReadOnlySpan<byte> row = block.Slice(i * rowBytes, rowBytes);
            if (PrefixBytes == 4)
            {
                int declared = BinaryPrimitives.ReadInt32LittleEndian(row);
                if (declared != Columns)
                {
                    throw InconsistentRow(Name, blockRow + i, declared, Columns);
                }
                row = row[4..];
            }
            int bad = decode(row, destination.Slice(i * Columns, Columns));
            if (bad >= 0)
            {
                throw Error(Name, $"row {blockRow + i}, column {bad} holds a {Describe(ElementType)} value outside the range of the requested type; read it with a wider type (e.g. ReadLongMatrix).");
            }
        }
    }
}
