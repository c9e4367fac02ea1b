using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qinco.Core.IO;

/// <summary>
/// Reads and writes vector files: the TEXMEX formats <c>.fvecs</c> (float32), <c>.bvecs</c> (uint8) and <c>.ivecs</c>
/// (int32) — per row a little-endian int32 dimension followed by that many values — and NumPy <c>.npy</c> (format 1.0,
/// 2.0 or 3.0; 2-D, C order, little-endian <c>'&lt;f4'</c>, <c>'|u1'</c>, <c>'&lt;i4'</c>, <c>'&lt;i8'</c>).
/// </summary>
/// <remarks>
/// <para>Float data (float32, and uint8 widened to float) reads as a <see cref="VectorSet"/>; integer data (ids, e.g.
/// ground-truth neighbours) as a <c>Matrix&lt;int&gt;</c> or <c>Matrix&lt;long&gt;</c>; uint8 data also as bytes, one
/// per value, without widening (<see cref="ReadByteMatrix(string, RowRange?)"/>, and packed codes as a
/// <see cref="CodeSet"/> with <see cref="ReadCodes(string, CodeLayout, RowRange?)"/>).</para>
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
    public static VectorFileFormat FormatOf(string path) =>
        TryFormatOf(path) ?? throw FileLayout.Error(path, $"has the extension '{Path.GetExtension(path)}'; expected .fvecs, .bvecs, .ivecs or .npy.");

    /// <summary>Rows, dimension and element type of a file, from its header and length, without reading the data.</summary>
    /// <exception cref="VectorFileException">An unknown extension, or a truncated or corrupt header.</exception>
    public static VectorFileInfo GetInfo(string path) => ParseLayout(path, FormatOf(path)).Info;

    /// <summary>The checked layout of the file at <paramref name="path"/>.</summary>
    internal static FileLayout ParseLayout(string path, VectorFileFormat format) => ReadFile(path, stream => FileLayout.Parse(stream, path, format));

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
    public static VectorSet Read(string path, RowRange? rows = null) => AsVectors(ReadMatrix<float>(path, FormatOf(path), rows));

    /// <summary>Reads vectors from a file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="Read(string, RowRange?)" path="/exception"/>
    public static VectorSet Read(Stream stream, VectorFileFormat format, RowRange? rows = null) => AsVectors(ReadMatrix<float>(stream, format, rows));

    /// <summary>Reads a <c>.fvecs</c> file (whatever its extension); only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, or the range is outside it.</exception>
    public static VectorSet ReadFvecs(string path, RowRange? rows = null) => AsVectors(ReadMatrix<float>(path, VectorFileFormat.Fvecs, rows));

    /// <summary>Reads a <c>.bvecs</c> file (whatever its extension), widening bytes to float; only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, or the range is outside it.</exception>
    public static VectorSet ReadBvecs(string path, RowRange? rows = null) => AsVectors(ReadMatrix<float>(path, VectorFileFormat.Bvecs, rows));

    /// <summary>Reads a float32 or uint8 (widened) <c>.npy</c> file; only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds another dtype, or the range is outside it.</exception>
    public static VectorSet ReadNpy(string path, RowRange? rows = null) => AsVectors(ReadMatrix<float>(path, VectorFileFormat.Npy, rows));

    /// <summary>
    /// Streams the vectors of a <c>.fvecs</c>, <c>.bvecs</c> or float32/uint8 <c>.npy</c> file (by extension) in sets of
    /// at most <paramref name="chunkRows"/> rows, holding one chunk in memory at a time. The file is opened when the
    /// enumeration starts and closed when it ends or is disposed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkRows"/> is below 1 (thrown at once).</exception>
    /// <exception cref="VectorFileException">While enumerating: the file cannot be read, or the range is outside it.</exception>
    public static IEnumerable<VectorSet> ReadChunks(string path, int chunkRows, RowRange? rows = null)
    {
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

    // ---------------------------------------------------------------- integer and byte matrices

    /// <summary>Reads an <c>.ivecs</c> file (whatever its extension); only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, or the range is outside it.</exception>
    public static Matrix<int> ReadIvecs(string path, RowRange? rows = null) => ReadMatrix<int>(path, VectorFileFormat.Ivecs, rows);

    /// <summary>
    /// Reads integers from an <c>.ivecs</c> file or an int32 / int64 / uint8 <c>.npy</c> file (by extension), e.g. a
    /// ground-truth file of neighbour ids; int64 values must fit int32.
    /// </summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds float data, an int64 value outside the int32
    /// range, or the range is outside it.</exception>
    public static Matrix<int> ReadIntMatrix(string path, RowRange? rows = null) => ReadMatrix<int>(path, FormatOf(path), rows);

    /// <summary>Reads integers from a file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="ReadIntMatrix(string, RowRange?)" path="/exception"/>
    public static Matrix<int> ReadIntMatrix(Stream stream, VectorFileFormat format, RowRange? rows = null) => ReadMatrix<int>(stream, format, rows);

    /// <summary>Reads 64-bit integers from an <c>.ivecs</c> file or an int64 / int32 / uint8 <c>.npy</c> file (by extension).</summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds float data, or the range is outside it.</exception>
    public static Matrix<long> ReadLongMatrix(string path, RowRange? rows = null) => ReadMatrix<long>(path, FormatOf(path), rows);

    /// <summary>Reads 64-bit integers from a file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="ReadLongMatrix(string, RowRange?)" path="/exception"/>
    public static Matrix<long> ReadLongMatrix(Stream stream, VectorFileFormat format, RowRange? rows = null) => ReadMatrix<long>(stream, format, rows);

    /// <summary>
    /// Reads the bytes of a <c>.bvecs</c> or uint8 (<c>'|u1'</c>) <c>.npy</c> file (by extension) as they are, one byte
    /// per value (a quarter of the memory of <see cref="Read(string, RowRange?)"/>, which widens them to float); only
    /// <paramref name="rows"/> when given.
    /// </summary>
    /// <exception cref="VectorFileException">The file cannot be read, holds another type than uint8, or the range is outside it.</exception>
    public static Matrix<byte> ReadByteMatrix(string path, RowRange? rows = null) => ReadMatrix<byte>(path, FormatOf(path), rows);

    /// <summary>Reads the bytes of a uint8 file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="ReadByteMatrix(string, RowRange?)" path="/exception"/>
    public static Matrix<byte> ReadByteMatrix(Stream stream, VectorFileFormat format, RowRange? rows = null) => ReadMatrix<byte>(stream, format, rows);

    // ---------------------------------------------------------------- codes

    /// <summary>
    /// Reads packed codes from a 2-D uint8 <c>.npy</c> of shape [count, code size] (as <see cref="WriteCodes"/> and
    /// <c>qinco encode</c> write, and NumPy reads) or a <c>.bvecs</c> file, by extension; only <paramref name="rows"/>
    /// when given. The file holds no layout, so the caller gives the one the codes were written with.
    /// </summary>
    /// <param name="path">The code file.</param>
    /// <param name="layout">How the codes are packed; its code size must be the file's row length.</param>
    /// <param name="rows">The codes to read; all when null.</param>
    /// <returns>The codes, one byte per stored byte.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="layout"/> is null.</exception>
    /// <exception cref="VectorFileException">The file cannot be read, holds another type than uint8, rows of another
    /// length than <c>layout.CodeSize</c>, or the range is outside it.</exception>
    public static CodeSet ReadCodes(string path, CodeLayout layout, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return CodeSet.FromArray(ReadMatrix<byte>(path, FormatOf(path), rows, layout).Data, layout);
    }

    /// <summary>Reads packed codes from a uint8 file of the given format in <paramref name="stream"/> (from its current position).</summary>
    /// <inheritdoc cref="ReadCodes(string, CodeLayout, RowRange?)" path="/param"/>
    /// <inheritdoc cref="ReadCodes(string, CodeLayout, RowRange?)" path="/exception"/>
    public static CodeSet ReadCodes(Stream stream, VectorFileFormat format, CodeLayout layout, RowRange? rows = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return CodeSet.FromArray(ReadMatrix<byte>(stream, format, rows, layout).Data, layout);
    }

    /// <summary>
    /// Writes codes byte for byte as a 2-D uint8 (<c>'|u1'</c>) <c>.npy</c> of shape [count, code size] (format 1.0,
    /// readable by NumPy), whatever the extension; replaces an existing file. The layout is not stored: the reader gives
    /// it. (<see cref="WriteBvecs(string, Matrix{byte})"/> writes codes as <c>.bvecs</c>.)
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void WriteCodes(string path, CodeSet codes) => WriteNpy(path, codes);

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes vectors as <c>.fvecs</c>, <c>.bvecs</c> or float32 <c>.npy</c>, chosen by the extension; replaces an
    /// existing file.
    /// </summary>
    /// <exception cref="ArgumentException">Another extension (<c>.ivecs</c>: use <see cref="WriteIvecs(string, Matrix{int})"/>),
    /// values a <c>.bvecs</c> file cannot hold, or an empty set for a TEXMEX file.</exception>
    public static void Write(string path, VectorSet vectors)
    {
        VectorFileFormat format = TryFormatOf(path) switch
        {
            VectorFileFormat.Ivecs => throw new ArgumentException($"{path}: .ivecs holds integers; write a Matrix<int> with WriteIvecs.", nameof(path)),
            VectorFileFormat known => known,
            null => throw new ArgumentException($"{path}: the extension '{Path.GetExtension(path)}' is not .fvecs, .bvecs or .npy.", nameof(path)),
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
        if (format == VectorFileFormat.Ivecs)
        {
            throw new ArgumentException(".ivecs holds integers; write a Matrix<int>.", nameof(format));
        }
        VectorWriter(vectors, format, VectorElementType.Float32)(stream);
    }

    /// <summary>Writes vectors as <c>.fvecs</c> (whatever the extension); replaces an existing file.</summary>
    /// <exception cref="ArgumentException">An empty set (a TEXMEX file cannot give the dimension of zero rows).</exception>
    public static void WriteFvecs(string path, VectorSet vectors) => WriteFile(path, vectors, VectorFileFormat.Fvecs, VectorElementType.Float32);

    /// <summary>Writes vectors as <c>.bvecs</c> (whatever the extension); every value must be an integer 0..255.</summary>
    /// <exception cref="ArgumentException">A value that is not an integer 0..255 (its row and column are named; nothing
    /// is written), or an empty set.</exception>
    public static void WriteBvecs(string path, VectorSet vectors) => WriteFile(path, vectors, VectorFileFormat.Bvecs, VectorElementType.UInt8);

    /// <summary>Writes bytes as <c>.bvecs</c> (whatever the extension) as they are; replaces an existing file.</summary>
    /// <exception cref="ArgumentException">An empty matrix (a TEXMEX file cannot give the dimension of zero rows).</exception>
    public static void WriteBvecs(string path, Matrix<byte> matrix) => WriteFile(path, matrix, VectorFileFormat.Bvecs);

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
        VectorWriter(vectors, VectorFileFormat.Npy, elementType)(stream);
    }

    /// <summary>Writes integers as <c>.ivecs</c> (whatever the extension); replaces an existing file.</summary>
    /// <exception cref="ArgumentException">An empty matrix (a TEXMEX file cannot give the dimension of zero rows).</exception>
    public static void WriteIvecs(string path, Matrix<int> matrix) => WriteFile(path, matrix, VectorFileFormat.Ivecs);

    /// <summary>
    /// Writes a matrix as a <c>.npy</c> file (format 1.0) of its element type, value for value: float32
    /// (<c>'&lt;f4'</c>), uint8 (<c>'|u1'</c>, e.g. a <see cref="CodeSet"/>), int32 (<c>'&lt;i4'</c>) or int64
    /// (<c>'&lt;i8'</c>); replaces an existing file.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="byte"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <exception cref="ArgumentException">Another element type.</exception>
    public static void WriteNpy<T>(string path, Matrix<T> matrix)
        where T : unmanaged => WriteFile(path, matrix, VectorFileFormat.Npy);

    /// <summary>Writes a matrix to <paramref name="stream"/> as a <c>.npy</c> array of its element type.</summary>
    /// <inheritdoc cref="WriteNpy{T}(string, Matrix{T})" path="/typeparam"/>
    /// <inheritdoc cref="WriteNpy{T}(string, Matrix{T})" path="/exception"/>
    public static void WriteNpy<T>(Stream stream, Matrix<T> matrix)
        where T : unmanaged => Write(stream, VectorFileFormat.Npy, matrix);

    /// <summary>
    /// Writes a matrix to <paramref name="stream"/> as <see cref="VectorFileFormat.Npy"/> or as the TEXMEX format of its
    /// element type (<c>.fvecs</c> for float, <c>.bvecs</c> for byte, <c>.ivecs</c> for int; long has none).
    /// </summary>
    /// <inheritdoc cref="WriteNpy{T}(string, Matrix{T})" path="/typeparam"/>
    /// <exception cref="ArgumentException">Another element type, a format that does not hold it, or an empty matrix for
    /// a TEXMEX format.</exception>
    public static void Write<T>(Stream stream, VectorFileFormat format, Matrix<T> matrix)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckWritable(matrix, format);
        WriteMatrix(stream, matrix, format);
    }

    // ---------------------------------------------------------------- implementation: reading

    private static string NameOf(Stream stream) => stream is FileStream fs ? fs.Name : StreamName;

    private static VectorFileFormat? TryFormatOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string extension = Path.GetExtension(path);
        return Enum.GetValues<VectorFileFormat>().Cast<VectorFileFormat?>()
            .FirstOrDefault(f => FileLayout.Extension(f!.Value).Equals(extension, StringComparison.OrdinalIgnoreCase));
    }

    private static FileStream OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
    }

    private static TResult ReadFile<TResult>(string path, Func<Stream, TResult> read)
    {
        using FileStream stream = OpenRead(path);
        return read(stream);
    }

    private static VectorSet AsVectors(Matrix<float> vectors) => VectorSet.FromArray(vectors.Data, vectors.Columns);

    private static Matrix<T> ReadMatrix<T>(string path, VectorFileFormat format, RowRange? rows, CodeLayout? codes = null)
        where T : unmanaged, INumberBase<T> => ReadFile(path, stream => ReadMatrix<T>(stream, path, format, rows, codes));

    private static Matrix<T> ReadMatrix<T>(Stream stream, VectorFileFormat format, RowRange? rows, CodeLayout? codes = null)
        where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadMatrix<T>(stream, NameOf(stream), format, rows, codes);
    }

    /// <summary>Reads a whole <c>.npy</c> array of any rank up to 2 (an <c>.npz</c> member) as <typeparamref name="T"/>; a 1-D array is one column, a scalar 1 × 1.</summary>
    internal static Matrix<T> ReadNpyOfAnyRank<T>(Stream stream, string name)
        where T : unmanaged, INumberBase<T> => ReadMatrix<T>(stream, name, VectorFileFormat.Npy, null, null, allowLowerRanks: true);

    /// <summary>Reads the rows as <typeparamref name="T"/>; with <paramref name="codes"/>, checks first that the rows
    /// are codes of that layout.</summary>
    private static Matrix<T> ReadMatrix<T>(Stream stream, string name, VectorFileFormat format, RowRange? rows, CodeLayout? codes, bool allowLowerRanks = false)
        where T : unmanaged, INumberBase<T>
    {
        FileLayout layout = FileLayout.Parse(stream, name, format, allowLowerRanks);
        RowDecoder<T> decode = DecoderFor<T>(layout);
        if (codes is not null && layout.Columns != codes.CodeSize)
        {
            throw FileLayout.Error(name, $"holds codes of {layout.Columns} bytes, but {codes.Steps} steps of {codes.BitsPerStep} bits pack into {codes.CodeSize}-byte codes.");
        }
        (long start, long count) = layout.Resolve(rows);
        var data = new T[layout.ArrayLength(count)];
        layout.ReadRows(stream, start, (int)count, data, decode);
        return Matrix<T>.FromArray(data, layout.Columns);
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
        RowDecoder<float> decode = DecoderFor<float>(layout);
        (long start, long count) = layout.Resolve(rows);
        for (long done = 0; done < count; done += chunkRows)
        {
            int n = (int)Math.Min(chunkRows, count - done);
            var data = new float[layout.ArrayLength(n)];
            layout.ReadRows(stream, start + done, n, data, decode);
            yield return VectorSet.FromArray(data, layout.Columns);
        }
    }

    /// <summary>
    /// The decoder from the file's element type to <typeparamref name="T"/>: a copy for the same type; uint8 widens to
    /// any type, int32 and int64 convert into each other (a value outside the target range is reported); float32 and
    /// the integers do not mix, and only uint8 reads as bytes.
    /// </summary>
    internal static RowDecoder<T> DecoderFor<T>(FileLayout layout)
        where T : unmanaged, INumberBase<T>
    {
        VectorElementType target = FileLayout.ElementTypeOf<T>();
        VectorElementType source = layout.ElementType;
        bool integers = source is VectorElementType.Int32 or VectorElementType.Int64 && target is VectorElementType.Int32 or VectorElementType.Int64;
        if (source != target && source != VectorElementType.UInt8 && !integers)
        {
            string problem = $"holds {FileLayout.Describe(source)} data{NpyDescr(layout)}, " + target switch
            {
                VectorElementType.Float32 => "not float32 or uint8 vectors; read it with VectorFile.ReadIntMatrix or ReadLongMatrix.",
                VectorElementType.UInt8 => "not uint8 bytes; read it with VectorFile.Read, ReadIntMatrix or ReadLongMatrix.",
                _ => "not integers; read it with VectorFile.Read.",
            };
            throw FileLayout.Error(layout.Name, problem);
        }
        return source switch
        {
            _ when source == target => static (src, dst) =>
            {
                LittleEndianValues<T>(src).CopyTo(dst);
                return -1;
            },
            VectorElementType.UInt8 => Convert<byte, T>,
            VectorElementType.Int32 => Convert<int, T>,
            _ => Convert<long, T>,
        };
    }

    private static string NpyDescr(FileLayout layout) =>
        layout.Format == VectorFileFormat.Npy ? $" (dtype '{NpyHeader.Descr(layout.ElementType)}')" : string.Empty;

    /// <summary>Converts little-endian <typeparamref name="TSource"/> values; returns the index of the first value
    /// <typeparamref name="T"/> cannot hold, or -1.</summary>
    private static int Convert<TSource, T>(ReadOnlySpan<byte> source, Span<T> destination)
        where TSource : unmanaged, INumberBase<TSource>
        where T : unmanaged, INumberBase<T>
    {
        ReadOnlySpan<TSource> values = LittleEndianValues<TSource>(source);
        for (int i = 0; i < destination.Length; i++)
        {
            T value = T.CreateSaturating(values[i]);
            if (TSource.CreateSaturating(value) != values[i])
            {
                return i;
            }
            destination[i] = value;
        }
        return -1;
    }

    /// <summary>The values stored little-endian in <paramref name="bytes"/>; reinterpreted in place on little-endian machines.</summary>
    private static ReadOnlySpan<T> LittleEndianValues<T>(ReadOnlySpan<byte> bytes)
        where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, T>(bytes);
        }
        byte[] swapped = bytes.ToArray();
        ReverseEach(swapped, Unsafe.SizeOf<T>());
        return MemoryMarshal.Cast<byte, T>(swapped);
    }

    private static void ReverseEach(Span<byte> bytes, int size)
    {
        for (int i = 0; i < bytes.Length; i += size)
        {
            bytes.Slice(i, size).Reverse();
        }
    }

    // ---------------------------------------------------------------- implementation: writing

    /// <summary>Writes a <c>.npy</c> header of <paramref name="rows"/> × <paramref name="columns"/> values of <typeparamref name="T"/>, for a writer that streams the rows after it (<see cref="WriteRows{T}"/>).</summary>
    internal static void WriteNpyHeader<T>(Stream stream, long rows, int columns)
        where T : unmanaged => NpyHeader.Write(stream, FileLayout.ElementTypeOf<T>(), rows, columns);

    /// <summary>Appends rows of <paramref name="columns"/> values: raw little-endian values after a <c>.npy</c> header, or TEXMEX rows (each with its dimension) of the format's element type.</summary>
    internal static void WriteRows<T>(Stream stream, VectorFileFormat format, ReadOnlySpan<T> values, int columns)
        where T : unmanaged
    {
        if (format == VectorFileFormat.Npy)
        {
            WriteValues(stream, values, Unsafe.SizeOf<T>());
        }
        else
        {
            WriteTexmex(stream, values, columns, Unsafe.SizeOf<T>());
        }
    }

    private static FileStream OpenWrite(string path) =>
        new(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);

    private static void WriteFile(string path, Action<Stream> write)
    {
        using FileStream stream = OpenWrite(path);
        write(stream);
    }

    private static void WriteFile<T>(string path, Matrix<T> matrix, VectorFileFormat format)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckWritable(matrix, format);
        WriteFile(path, stream => WriteMatrix(stream, matrix, format));
    }

    private static void WriteFile(string path, VectorSet vectors, VectorFileFormat format, VectorElementType elementType)
    {
        ArgumentNullException.ThrowIfNull(path);
        WriteFile(path, VectorWriter(vectors, format, elementType));
    }

    private static void CheckNotEmpty(int rows, VectorFileFormat format)
    {
        if (rows == 0 && format != VectorFileFormat.Npy)
        {
            throw new ArgumentException($"A {FileLayout.Extension(format)} file cannot hold zero rows: its dimension is stored per row, so the file could not be read back. Use .npy.");
        }
    }

    /// <summary>Checks that <paramref name="format"/> holds the matrix's element type and, for TEXMEX, that it has rows.</summary>
    private static void CheckWritable<T>(Matrix<T> matrix, VectorFileFormat format)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(matrix);
        VectorElementType type = FileLayout.ElementTypeOf<T>();
        if (format != VectorFileFormat.Npy && FileLayout.TexmexType(format) != type)
        {
            throw new ArgumentException(
                $"A matrix of {FileLayout.Describe(type)} cannot be written as {FileLayout.Extension(format)}, which holds {FileLayout.Describe(FileLayout.TexmexType(format))}; write it as .npy.",
                nameof(format));
        }
        CheckNotEmpty(matrix.Rows, format);
    }

    /// <summary>Checks that the vectors can be written, before anything is; returns their writer: of the floats, or for a
    /// uint8 file of the values narrowed to bytes.</summary>
    private static Action<Stream> VectorWriter(VectorSet vectors, VectorFileFormat format, VectorElementType elementType)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        CheckNotEmpty(vectors.Count, format);
        if (format == VectorFileFormat.Npy && elementType is not (VectorElementType.Float32 or VectorElementType.UInt8))
        {
            throw new ArgumentException($"A VectorSet is written to .npy as Float32 or UInt8, not {elementType}; use a Matrix<int> or Matrix<long> for integers.", nameof(elementType));
        }
        if (format != VectorFileFormat.Bvecs && elementType != VectorElementType.UInt8)
        {
            return stream => WriteMatrix(stream, vectors, format);
        }
        ReadOnlySpan<float> values = vectors.Data;
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(v >= 0f && v <= 255f && v == MathF.Floor(v)))
            {
                throw new ArgumentException(
                    $"Vector {i / vectors.Dimension}, component {i % vectors.Dimension} is {v}: uint8 ({(format == VectorFileFormat.Bvecs ? ".bvecs" : "'|u1' .npy")}) holds only integers 0..255.",
                    nameof(vectors));
            }
            bytes[i] = (byte)v;
        }
        var narrowed = Matrix<byte>.FromArray(bytes, vectors.Dimension);
        return stream => WriteMatrix(stream, narrowed, format);
    }

    /// <summary>Writes the matrix as <c>.npy</c> or TEXMEX, values little-endian; the format is already checked.</summary>
    private static void WriteMatrix<T>(Stream stream, Matrix<T> matrix, VectorFileFormat format)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (format == VectorFileFormat.Npy)
        {
            NpyHeader.Write(stream, FileLayout.ElementTypeOf<T>(), matrix.Rows, matrix.Columns);
            WriteValues(stream, matrix.Data, size);
        }
        else
        {
            WriteTexmex(stream, matrix.Data, matrix.Columns, size);
        }
    }

    private static void EncodeLittleEndian<T>(ReadOnlySpan<T> values, Span<byte> destination)
        where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(destination);
        if (!BitConverter.IsLittleEndian)
        {
            ReverseEach(destination[..bytes.Length], Unsafe.SizeOf<T>());
        }
    }

    /// <summary>Writes values in bounded blocks, encoded little-endian.</summary>
    private static void WriteValues<T>(Stream stream, ReadOnlySpan<T> values, int size)
        where T : unmanaged
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(WriteBlockValues * size);
        try
        {
            for (int offset = 0; offset < values.Length; offset += WriteBlockValues)
            {
                ReadOnlySpan<T> block = values.Slice(offset, Math.Min(WriteBlockValues, values.Length - offset));
                Span<byte> bytes = buffer.AsSpan(0, block.Length * size);
                EncodeLittleEndian(block, bytes);
                stream.Write(bytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes rows as a little-endian int32 dimension followed by the values, little-endian.</summary>
    private static void WriteTexmex<T>(Stream stream, ReadOnlySpan<T> values, int dimension, int size)
        where T : unmanaged
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4 + (dimension * size));
        try
        {
            Span<byte> row = buffer.AsSpan(0, 4 + (dimension * size));
            BinaryPrimitives.WriteInt32LittleEndian(row, dimension);
            for (int offset = 0; offset < values.Length; offset += dimension)
            {
                EncodeLittleEndian(values.Slice(offset, dimension), row[4..]);
                stream.Write(row);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
