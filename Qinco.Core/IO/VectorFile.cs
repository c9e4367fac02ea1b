using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Qinco.Core.IO;

/// <summary>
/// Reads and writes vector files: the TEXMEX formats <c>.fvecs</c> (float32), <c>.bvecs</c> (uint8) and <c>.ivecs</c>
/// (int32) — per row a little-endian int32 dimension followed by that many values — and NumPy <c>.npy</c> (format 1.0,
/// 2.0 or 3.0; 2-D, C order, little-endian <c>'&lt;f4'</c>, <c>'|u1'</c>, <c>'&lt;i4'</c>, <c>'&lt;i8'</c>).
/// </summary>
/// <remarks>
/// <para>Float data (float32, and uint8 widened to float) reads as a <see cref="VectorSet"/>; integer data (ids, e.g.
/// ground-truth neighbours) as a <c>Matrix&lt;int&gt;</c> or <c>Matrix&lt;long&gt;</c>.</para>
/// <para>A <see cref="RowRange"/> reads only those rows: the reader seeks to the first and reads no others. For files
/// larger than memory, <see cref="ReadChunks(string, int, RowRange?)"/> streams a bounded number of rows at a time.</para>
/// <para>Every header is checked against the file length before anything is allocated. A truncated file, a wrong or
/// corrupt header, inconsistent row dimensions, an unsupported dtype or layout, or a row range outside the file throws
/// <see cref="VectorFileException"/> naming the file and the problem. <see cref="GetInfo(string)"/> and the reads of a
/// row range only check the rows they touch: a <c>.*vecs</c> row of another dimension elsewhere is reported when that
/// row is read. Bytes after the data of a <c>.npy</c> array are ignored, as NumPy does.</para>
/// <para>Stream overloads read from the stream's current position and need a seekable stream; writes need only a
/// writable one. Streams are left open.</para>
/// </remarks>
public static class VectorFile
{
    private const string StreamName = "<stream>";
    private const int WriteBlockValues = 1 << 16;

    // ---------------------------------------------------------------- format and info

    /// <summary>The format of a path by its extension (<c>.fvecs</c>, <c>.bvecs</c>, <c>.ivecs</c>, <c>.npy</c>, any case).</summary>
    /// <exception cref="VectorFileException">Another extension.</exception>
    public static VectorFileFormat FormatOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string ext = Path.GetExtension(path).ToUpperInvariant();
        return ext switch
        {
            ".FVECS" => VectorFileFormat.Fvecs,
            ".BVECS" => VectorFileFormat.Bvecs,
            ".IVECS" => VectorFileFormat.Ivecs,
            ".NPY" => VectorFileFormat.Npy,
            _ => throw FileLayout.Error(path, $"has the extension '{Path.GetExtension(path)}'; expected .fvecs, .bvecs, .ivecs or .npy."),
        };
    }

    /// <summary>Rows, dimension and element type of a file, from its header and length, without reading the data.</summary>
    /// <exception cref="VectorFileException">An unknown extension, or a truncated or corrupt header.</exception>
    public static VectorFileInfo GetInfo(string path)
    {
        VectorFileFormat format = FormatOf(path);
        using FileStream stream = OpenRead(path);
        return FileLayout.Parse(stream, path, format).Info;
    }

    /// <summary>Rows, dimension and element type of a file in <paramref name="stream"/> (from its current position).</summary>
    /// <exception cref="VectorFileException">A truncated or corrupt header.</exception>
    public static VectorFileInfo GetInfo(Stream stream, VectorFileFormat format)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position;
        VectorFileInfo info = FileLayout.Parse(stream, NameOf(stream), format).Info;
        stream.Position = start;
        return info;
    }

    // ---------------------------------------------------------------- float vectors

    /// <summary>
    /// Reads vectors from a <c>.fvecs</c>, <c>.bvecs</c> (bytes widened to float) or float32/uint8 <c>.npy</c> file,
    /// chosen by the extension; only <paramref name="rows"/> when given.
    /// </summary>
    /// <exception cref="VectorFileException">The file cannot be read (see <see cref="VectorFile"/>), holds integer data
    /// (<c>.ivecs</c>, int <c>.npy</c>: use <see cref="ReadIntMatrix(string, RowRange?)"/>), or the range is outside it.</exception>
    public static VectorSet Read(string path, RowRange? rows = null) => ReadVectors(path, FormatOf(path), rows);

    /// <summary>Reads vectors from a file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="Read(string, RowRange?)" path="/exception"/>
    public static VectorSet Read(Stream stream, VectorFileFormat format, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadVectors(stream, NameOf(stream), format, rows);
    }

    /// <summary>Reads a <c>.fvecs</c> file (whatever its extension); only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, or the range is outside it.</exception>
    public static VectorSet ReadFvecs(string path, RowRange? rows = null) => ReadVectors(path, VectorFileFormat.Fvecs, rows);

    /// <summary>Reads a <c>.bvecs</c> file (whatever its extension), widening bytes to float; only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, or the range is outside it.</exception>
    public static VectorSet ReadBvecs(string path, RowRange? rows = null) => ReadVectors(path, VectorFileFormat.Bvecs, rows);

    /// <summary>Reads a float32 or uint8 (widened) <c>.npy</c> file; only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds another dtype, or the range is outside it.</exception>
    public static VectorSet ReadNpy(string path, RowRange? rows = null) => ReadVectors(path, VectorFileFormat.Npy, rows);

    /// <summary>
    /// Streams the vectors of a <c>.fvecs</c>, <c>.bvecs</c> or float32/uint8 <c>.npy</c> file (by extension) in sets of
    /// at most <paramref name="chunkRows"/> rows, holding one chunk in memory at a time. The file is opened when the
    /// enumeration starts and closed when it ends or is disposed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkRows"/> is below 1 (thrown at once).</exception>
    /// <exception cref="VectorFileException">While enumerating: the file cannot be read, or the range is outside it.</exception>
    public static IEnumerable<VectorSet> ReadChunks(string path, int chunkRows, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        VectorFileFormat format = FormatOf(path);
        return ReadChunksFromPath(path, format, chunkRows, rows);
    }

    /// <summary>
    /// Streams the vectors of a file of the given format in <paramref name="stream"/> (from its position when the
    /// enumeration starts) in sets of at most <paramref name="chunkRows"/> rows. The stream is left open.
    /// </summary>
    /// <inheritdoc cref="ReadChunks(string, int, RowRange?)" path="/exception"/>
    public static IEnumerable<VectorSet> ReadChunks(Stream stream, VectorFileFormat format, int chunkRows, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        return ReadChunksCore(stream, NameOf(stream), format, chunkRows, rows);
    }

    // ---------------------------------------------------------------- integer matrices

    /// <summary>Reads an <c>.ivecs</c> file (whatever its extension); only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, or the range is outside it.</exception>
    public static Matrix<int> ReadIvecs(string path, RowRange? rows = null) => ReadInts(path, VectorFileFormat.Ivecs, rows);

    /// <summary>
    /// Reads integers from an <c>.ivecs</c> file or an int32 / int64 / uint8 <c>.npy</c> file (by extension), e.g. a
    /// ground-truth file of neighbour ids; int64 values must fit int32.
    /// </summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds float data, an int64 value outside the int32
    /// range, or the range is outside it.</exception>
    public static Matrix<int> ReadIntMatrix(string path, RowRange? rows = null) => ReadInts(path, FormatOf(path), rows);

    /// <summary>Reads integers from a file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="ReadIntMatrix(string, RowRange?)" path="/exception"/>
    public static Matrix<int> ReadIntMatrix(Stream stream, VectorFileFormat format, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadInts(stream, NameOf(stream), format, rows);
    }

    /// <summary>Reads 64-bit integers from an <c>.ivecs</c> file or an int64 / int32 / uint8 <c>.npy</c> file (by extension).</summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds float data, or the range is outside it.</exception>
    public static Matrix<long> ReadLongMatrix(string path, RowRange? rows = null)
    {
        VectorFileFormat format = FormatOf(path);
        using FileStream stream = OpenRead(path);
        return ReadLongs(stream, path, format, rows);
    }

    /// <summary>Reads 64-bit integers from a file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="ReadLongMatrix(string, RowRange?)" path="/exception"/>
    public static Matrix<long> ReadLongMatrix(Stream stream, VectorFileFormat format, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadLongs(stream, NameOf(stream), format, rows);
    }

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes vectors as <c>.fvecs</c>, <c>.bvecs</c> or float32 <c>.npy</c>, chosen by the extension; replaces an
    /// existing file.
    /// </summary>
    /// <exception cref="ArgumentException">Another extension (<c>.ivecs</c>: use <see cref="WriteIvecs(string, Matrix{int})"/>),
    /// values a <c>.bvecs</c> file cannot hold, or an empty set for a TEXMEX file.</exception>
    public static void Write(string path, VectorSet vectors)
    {
        ArgumentNullException.ThrowIfNull(path);
        VectorFileFormat format = Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".FVECS" => VectorFileFormat.Fvecs,
            ".BVECS" => VectorFileFormat.Bvecs,
            ".NPY" => VectorFileFormat.Npy,
            ".IVECS" => throw new ArgumentException($"{path}: .ivecs holds integers; write a Matrix<int> with WriteIvecs.", nameof(path)),
            string other => throw new ArgumentException($"{path}: the extension '{other}' is not .fvecs, .bvecs or .npy.", nameof(path)),
        };
        WriteFile(path, vectors, format, VectorElementType.Float32);
    }

    /// <summary>Writes vectors in the given format (<see cref="VectorFileFormat.Fvecs"/>, <see cref="VectorFileFormat.Bvecs"/>,
    /// or float32 <see cref="VectorFileFormat.Npy"/>) to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="VectorFileFormat.Ivecs"/>, values a <c>.bvecs</c> file cannot hold,
    /// or an empty set for a TEXMEX format.</exception>
    public static void Write(Stream stream, VectorFileFormat format, VectorSet vectors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(vectors);
        if (format == VectorFileFormat.Ivecs)
        {
            throw new ArgumentException(".ivecs holds integers; write a Matrix<int>.", nameof(format));
        }
        CheckWritable(vectors, format, VectorElementType.Float32);
        WriteVectors(stream, vectors, format, VectorElementType.Float32);
    }

    /// <summary>Writes vectors as <c>.fvecs</c> (whatever the extension); replaces an existing file.</summary>
    /// <exception cref="ArgumentException">An empty set (a TEXMEX file cannot give the dimension of zero rows).</exception>
    public static void WriteFvecs(string path, VectorSet vectors) => WriteFile(path, vectors, VectorFileFormat.Fvecs, VectorElementType.Float32);

    /// <summary>Writes vectors as <c>.bvecs</c> (whatever the extension); every value must be an integer 0..255.</summary>
    /// <exception cref="ArgumentException">A value that is not an integer 0..255 (its row and column are named; nothing
    /// is written), or an empty set.</exception>
    public static void WriteBvecs(string path, VectorSet vectors) => WriteFile(path, vectors, VectorFileFormat.Bvecs, VectorElementType.UInt8);

    /// <summary>
    /// Writes vectors as a <c>.npy</c> file (format 1.0) of float32 (<c>'&lt;f4'</c>) or, with
    /// <see cref="VectorElementType.UInt8"/>, bytes (<c>'|u1'</c>, values must be integers 0..255).
    /// </summary>
    /// <exception cref="ArgumentException">An element type other than float32 or uint8, or values uint8 cannot hold.</exception>
    public static void WriteNpy(string path, VectorSet vectors, VectorElementType elementType = VectorElementType.Float32) =>
        WriteFile(path, vectors, VectorFileFormat.Npy, elementType);

    /// <summary>Writes vectors to <paramref name="stream"/> as a float32 or uint8 <c>.npy</c> array.</summary>
    /// <inheritdoc cref="WriteNpy(string, VectorSet, VectorElementType)" path="/exception"/>
    public static void WriteNpy(Stream stream, VectorSet vectors, VectorElementType elementType)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(vectors);
        CheckWritable(vectors, VectorFileFormat.Npy, elementType);
        WriteVectors(stream, vectors, VectorFileFormat.Npy, elementType);
    }

    /// <summary>Writes integers as <c>.ivecs</c> (whatever the extension); replaces an existing file.</summary>
    /// <exception cref="ArgumentException">An empty matrix (a TEXMEX file cannot give the dimension of zero rows).</exception>
    public static void WriteIvecs(string path, Matrix<int> matrix)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(matrix);
        CheckNotEmpty(matrix.Rows, VectorFileFormat.Ivecs);
        using FileStream stream = OpenWrite(path);
        WriteInts(stream, matrix, VectorFileFormat.Ivecs);
    }

    /// <summary>Writes integers as an int32 (<c>'&lt;i4'</c>) <c>.npy</c> file; replaces an existing file.</summary>
    public static void WriteNpy(string path, Matrix<int> matrix)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(matrix);
        using FileStream stream = OpenWrite(path);
        WriteInts(stream, matrix, VectorFileFormat.Npy);
    }

    /// <summary>Writes integers as <see cref="VectorFileFormat.Ivecs"/> or int32 <see cref="VectorFileFormat.Npy"/> to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">Another format, or an empty matrix for <c>.ivecs</c>.</exception>
    public static void Write(Stream stream, VectorFileFormat format, Matrix<int> matrix)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(matrix);
        if (format is not (VectorFileFormat.Ivecs or VectorFileFormat.Npy))
        {
            throw new ArgumentException($"A Matrix<int> is written as .ivecs or .npy, not {FileLayout.Extension(format)}.", nameof(format));
        }
        CheckNotEmpty(matrix.Rows, format);
        WriteInts(stream, matrix, format);
    }

    /// <summary>Writes 64-bit integers as an int64 (<c>'&lt;i8'</c>) <c>.npy</c> file; replaces an existing file.</summary>
    public static void WriteNpy(string path, Matrix<long> matrix)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(matrix);
        using FileStream stream = OpenWrite(path);
        WriteNpy(stream, matrix);
    }

    /// <summary>Writes 64-bit integers to <paramref name="stream"/> as an int64 <c>.npy</c> array.</summary>
    public static void WriteNpy(Stream stream, Matrix<long> matrix)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(matrix);
        NpyHeader.Write(stream, VectorElementType.Int64, matrix.Rows, matrix.Columns);
        WriteValues(stream, matrix.Data, 8, static (v, dst) =>
        {
            for (int i = 0; i < v.Length; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(dst[(i * 8)..], v[i]);
            }
        });
    }

    // ---------------------------------------------------------------- implementation: reading

    private static string NameOf(Stream stream) => stream is FileStream fs ? fs.Name : StreamName;

    private static FileStream OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
    }

    private static FileStream OpenWrite(string path) =>
        new(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);

    private static VectorSet ReadVectors(string path, VectorFileFormat format, RowRange? rows)
    {
        using FileStream stream = OpenRead(path);
        return ReadVectors(stream, path, format, rows);
    }

    private static VectorSet ReadVectors(Stream stream, string name, VectorFileFormat format, RowRange? rows)
    {
        FileLayout layout = FileLayout.Parse(stream, name, format);
        RowDecoder<float> decode = FloatDecoder(layout);
        (long start, long count) = layout.Resolve(rows);
        var data = new float[layout.ArrayLength(count)];
        layout.ReadRows(stream, start, (int)count, data, decode);
        return VectorSet.FromArray(data, layout.Columns);
    }

    private static IEnumerable<VectorSet> ReadChunksFromPath(string path, VectorFileFormat format, int chunkRows, RowRange? rows)
    {
        using FileStream stream = OpenRead(path);
        foreach (VectorSet chunk in ReadChunksCore(stream, path, format, chunkRows, rows))
        {
            yield return chunk;
        }
    }

    private static IEnumerable<VectorSet> ReadChunksCore(Stream stream, string name, VectorFileFormat format, int chunkRows, RowRange? rows)
    {
        FileLayout layout = FileLayout.Parse(stream, name, format);
        RowDecoder<float> decode = FloatDecoder(layout);
        (long start, long count) = layout.Resolve(rows);
        long done = 0;
        while (done < count)
        {
            int n = (int)Math.Min(chunkRows, count - done);
            var data = new float[layout.ArrayLength(n)];
            layout.ReadRows(stream, start + done, n, data, decode);
            done += n;
            yield return VectorSet.FromArray(data, layout.Columns);
        }
    }

    private static Matrix<int> ReadInts(string path, VectorFileFormat format, RowRange? rows)
    {
        using FileStream stream = OpenRead(path);
        return ReadInts(stream, path, format, rows);
    }

    private static Matrix<int> ReadInts(Stream stream, string name, VectorFileFormat format, RowRange? rows)
    {
        FileLayout layout = FileLayout.Parse(stream, name, format);
        RowDecoder<int> decode = layout.ElementType switch
        {
            VectorElementType.Int32 => static (src, dst) => { CopyLittleEndian(src, dst); return -1; },
            VectorElementType.UInt8 => static (src, dst) => { Widen(src, dst); return -1; },
            VectorElementType.Int64 => static (src, dst) =>
            {
                for (int i = 0; i < dst.Length; i++)
                {
                    long v = BinaryPrimitives.ReadInt64LittleEndian(src[(i * 8)..]);
                    if (v is < int.MinValue or > int.MaxValue)
                    {
                        return i;
                    }
                    dst[i] = (int)v;
                }
                return -1;
            },
            _ => throw NotIntegers(layout),
        };
        (long start, long count) = layout.Resolve(rows);
        var data = new int[layout.ArrayLength(count)];
        layout.ReadRows(stream, start, (int)count, data, decode);
        return Matrix<int>.FromArray(data, layout.Columns);
    }

    private static Matrix<long> ReadLongs(Stream stream, string name, VectorFileFormat format, RowRange? rows)
    {
        FileLayout layout = FileLayout.Parse(stream, name, format);
        RowDecoder<long> decode = layout.ElementType switch
        {
            VectorElementType.Int64 => static (src, dst) => { CopyLittleEndian(src, dst); return -1; },
            VectorElementType.Int32 => static (src, dst) =>
            {
                for (int i = 0; i < dst.Length; i++)
                {
                    dst[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]);
                }
                return -1;
            },
            VectorElementType.UInt8 => static (src, dst) =>
            {
                for (int i = 0; i < dst.Length; i++)
                {
                    dst[i] = src[i];
                }
                return -1;
            },
            _ => throw NotIntegers(layout),
        };
        (long start, long count) = layout.Resolve(rows);
        var data = new long[layout.ArrayLength(count)];
        layout.ReadRows(stream, start, (int)count, data, decode);
        return Matrix<long>.FromArray(data, layout.Columns);
    }

    private static VectorFileException NotIntegers(FileLayout layout) =>
        FileLayout.Error(layout.Name, $"holds {FileLayout.Describe(layout.ElementType)} data{NpyDescr(layout)}, not integers; read it with VectorFile.Read.");

    private static string NpyDescr(FileLayout layout) =>
        layout.Format == VectorFileFormat.Npy ? $" (dtype '{NpyHeader.Descr(layout.ElementType)}')" : string.Empty;

    private static RowDecoder<float> FloatDecoder(FileLayout layout) => layout.ElementType switch
    {
        VectorElementType.Float32 => static (src, dst) => { CopyLittleEndian(src, dst); return -1; },
        VectorElementType.UInt8 => static (src, dst) =>
        {
            for (int i = 0; i < dst.Length; i++)
            {
                dst[i] = src[i];
            }
            return -1;
        },
        _ => throw FileLayout.Error(layout.Name, $"holds {FileLayout.Describe(layout.ElementType)} data{NpyDescr(layout)}, not float32 or uint8 vectors; read it with VectorFile.ReadIntMatrix or ReadLongMatrix."),
    };

    private static void Widen(ReadOnlySpan<byte> src, Span<int> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = src[i];
        }
    }

    private static void CopyLittleEndian<T>(ReadOnlySpan<byte> src, Span<T> dst)
        where T : unmanaged
    {
        MemoryMarshal.Cast<byte, T>(src).CopyTo(dst);
        if (!BitConverter.IsLittleEndian)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(dst);
            int size = bytes.Length / dst.Length;
            for (int i = 0; i < bytes.Length; i += size)
            {
                bytes.Slice(i, size).Reverse();
            }
        }
    }

    // ---------------------------------------------------------------- implementation: writing

    private static void CheckNotEmpty(int rows, VectorFileFormat format)
    {
        if (rows == 0 && format != VectorFileFormat.Npy)
        {
            throw new ArgumentException($"A {FileLayout.Extension(format)} file cannot hold zero rows: its dimension is stored per row, so the file could not be read back. Use .npy.");
        }
    }

    private static void CheckWritable(VectorSet vectors, VectorFileFormat format, VectorElementType elementType)
    {
        CheckNotEmpty(vectors.Count, format);
        if (format == VectorFileFormat.Npy && elementType is not (VectorElementType.Float32 or VectorElementType.UInt8))
        {
            throw new ArgumentException($"A VectorSet is written to .npy as Float32 or UInt8, not {elementType}; use a Matrix<int> or Matrix<long> for integers.", nameof(elementType));
        }
        if (format == VectorFileFormat.Bvecs || elementType == VectorElementType.UInt8)
        {
            ReadOnlySpan<float> values = vectors.Data;
            for (int i = 0; i < values.Length; i++)
            {
                float v = values[i];
                if (!(v >= 0f && v <= 255f && v == MathF.Floor(v)))
                {
                    throw new ArgumentException(
                        $"Vector {i / vectors.Dimension}, component {i % vectors.Dimension} is {v}: uint8 ({(format == VectorFileFormat.Bvecs ? ".bvecs" : "'|u1' .npy")}) holds only integers 0..255.",
                        nameof(vectors));
                }
            }
        }
    }

    private static void WriteFile(string path, VectorSet vectors, VectorFileFormat format, VectorElementType elementType)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(vectors);
        CheckWritable(vectors, format, elementType);
        using FileStream stream = OpenWrite(path);
        WriteVectors(stream, vectors, format, elementType);
    }

    private static void WriteVectors(Stream stream, VectorSet vectors, VectorFileFormat format, VectorElementType elementType)
    {
        int d = vectors.Dimension;
        switch (format)
        {
            case VectorFileFormat.Fvecs:
                WriteTexmex(stream, vectors.Data, d, 4, static (v, dst) => WriteFloats(v, dst));
                break;
            case VectorFileFormat.Bvecs:
                WriteTexmex(stream, vectors.Data, d, 1, static (v, dst) => NarrowToBytes(v, dst));
                break;
            case VectorFileFormat.Npy when elementType == VectorElementType.UInt8:
                NpyHeader.Write(stream, VectorElementType.UInt8, vectors.Count, d);
                WriteValues(stream, vectors.Data, 1, static (v, dst) => NarrowToBytes(v, dst));
                break;
            case VectorFileFormat.Npy:
                NpyHeader.Write(stream, VectorElementType.Float32, vectors.Count, d);
                WriteValues(stream, vectors.Data, 4, static (v, dst) => WriteFloats(v, dst));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown vector file format.");
        }
    }

    private static void WriteInts(Stream stream, Matrix<int> matrix, VectorFileFormat format)
    {
        SpanEncoder<int> encode = static (v, dst) =>
        {
            for (int i = 0; i < v.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(dst[(i * 4)..], v[i]);
            }
        };
        if (format == VectorFileFormat.Ivecs)
        {
            WriteTexmex(stream, matrix.Data, matrix.Columns, 4, encode);
        }
        else
        {
            NpyHeader.Write(stream, VectorElementType.Int32, matrix.Rows, matrix.Columns);
            WriteValues(stream, matrix.Data, 4, encode);
        }
    }

    private delegate void SpanEncoder<T>(ReadOnlySpan<T> values, Span<byte> destination);

    private static void WriteFloats(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], values[i]);
        }
    }

    private static void NarrowToBytes(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (int i = 0; i < values.Length; i++)
        {
            destination[i] = (byte)values[i];
        }
    }

    /// <summary>Writes values in bounded blocks, encoded little-endian.</summary>
    private static void WriteValues<T>(Stream stream, ReadOnlySpan<T> values, int size, SpanEncoder<T> encode)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(WriteBlockValues * size);
        try
        {
            for (int offset = 0; offset < values.Length; offset += WriteBlockValues)
            {
                ReadOnlySpan<T> block = values.Slice(offset, Math.Min(WriteBlockValues, values.Length - offset));
                Span<byte> bytes = buffer.AsSpan(0, block.Length * size);
                encode(block, bytes);
                stream.Write(bytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes rows as a little-endian int32 dimension followed by the encoded values.</summary>
    private static void WriteTexmex<T>(Stream stream, ReadOnlySpan<T> values, int dimension, int size, SpanEncoder<T> encode)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4 + (dimension * size));
        try
        {
            Span<byte> row = buffer.AsSpan(0, 4 + (dimension * size));
            BinaryPrimitives.WriteInt32LittleEndian(row, dimension);
            for (int offset = 0; offset < values.Length; offset += dimension)
            {
                encode(values.Slice(offset, dimension), row[4..]);
                stream.Write(row);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
