using System;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace Qinco.Core.IO;

/// <summary>
/// The rows of a <c>.fvecs</c>, <c>.bvecs</c> or float32/uint8 <c>.npy</c> file as an <see cref="IVectorSource"/>: rows are
/// read from the file when asked (positional reads, safe from any number of threads), so a file larger than memory can
/// be a training set. uint8 values are widened to float. Dispose it to close the file.
/// </summary>
/// <remarks>
/// The header is parsed and checked against the file's length when the source is opened; a row whose TEXMEX dimension
/// prefix disagrees, or a file that shrinks later, is a <see cref="VectorFileException"/> when that row is read.
/// </remarks>
public sealed class VectorFileSource : IVectorSource, IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly FileLayout _layout;
    private readonly RowDecoder<float> _decode;
    private readonly long _start;

    private VectorFileSource(SafeFileHandle handle, FileLayout layout, long start, int count)
    {
        _handle = handle;
        _layout = layout;
        _decode = VectorFile.DecoderFor<float>(layout);
        _start = start;
        Count = count;
    }

    /// <summary>The file's path.</summary>
    public string Path => _layout.Name;

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public int Dimension => _layout.Columns;

    /// <summary>Opens <paramref name="path"/> (format by extension); only <paramref name="rows"/> when given.</summary>
    /// <exception cref="VectorFileException">The file cannot be read, its header is corrupt or truncated, it holds integers, the range is outside it, or it has more than 2^31 − 1 rows in the range.</exception>
    public static VectorFileSource Open(string path, RowRange? rows = null)
    {
        VectorFileFormat format = VectorFile.FormatOf(path);
        FileLayout layout = VectorFile.ParseLayout(path, format);
        (long start, long count) = layout.Resolve(rows);
        if (count > int.MaxValue)
        {
            throw FileLayout.Error(path, $"has {count} rows in the range; a source holds at most {int.MaxValue}: give a row range.");
        }
        _ = VectorFile.DecoderFor<float>(layout); // an integer file fails here, before the handle is opened
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw FileLayout.Error(path, $"cannot be opened: {ex.Message}", ex);
        }
        return new VectorFileSource(handle, layout, start, (int)count);
    }

    /// <inheritdoc/>
    public void ReadRange(int first, int count, Span<float> destination)
    {
        VectorSources.CheckRange(this, first, count, destination);
        _layout.ReadRows(_handle, _start + first, count, destination, _decode);
    }

    /// <inheritdoc/>
    public void ReadRows(ReadOnlySpan<int> rows, Span<float> destination)
    {
        VectorSources.CheckRows(this, rows, destination, Path);
        int d = Dimension;
        for (int i = 0; i < rows.Length; i++)
        {
            _layout.ReadRows(_handle, _start + rows[i], 1, destination.Slice(i * d, d), _decode);
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();
}
