using System;
using System.IO;
using System.Threading;
using Qinco.Core.IO;

namespace Qinco.Core;

/// <summary>How far a chunked <see cref="QuantizerStreaming"/> operation is: <paramref name="Completed"/> of <paramref name="Total"/> vectors (or codes).</summary>
/// <param name="Completed">Vectors (or codes) done so far.</param>
/// <param name="Total">Vectors (or codes) in the whole operation.</param>
public readonly record struct CodingProgress(long Completed, long Total);

/// <summary>
/// Encoding and decoding of large sets in chunks: with progress and cancellation between chunks, and from file to file
/// holding one chunk of vectors and codes in memory at a time (a 1,000,000 × 128 set is encoded in tens of MB instead
/// of the 512 MB the whole set takes).
/// </summary>
public static class QuantizerStreaming
{
    /// <summary>Vectors per chunk (default 16,384): big enough that every thread has tiles to encode, small enough to cancel within a fraction of a second at bigsift's cost.</summary>
    public const int DefaultChunkVectors = 16_384;

    /// <summary>
    /// Encodes <paramref name="vectors"/> chunk by chunk (the same codes as <see cref="QuantizerExtensions.Encode(IQuantizer, VectorSet)"/>),
    /// reporting after each chunk and checking <paramref name="cancellationToken"/> before each.
    /// </summary>
    /// <exception cref="ArgumentException">The vectors have another dimension, or hold NaN/Inf.</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the codes are not returned.</exception>
    public static CodeSet Encode(this IQuantizer quantizer, VectorSet vectors, IProgress<CodingProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(vectors);
        RequireDimension(quantizer, vectors.Dimension, nameof(vectors));
        var codes = new CodeSet(vectors.Count, quantizer.Layout);
        int d = quantizer.Dimension, size = quantizer.CodeSize;
        for (int first = 0; first < vectors.Count; first += DefaultChunkVectors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(DefaultChunkVectors, vectors.Count - first);
            quantizer.Encode(vectors.Data.AsSpan(first * d, count * d), codes.Data.AsSpan(first * size, count * size));
            progress?.Report(new CodingProgress(first + count, vectors.Count));
        }
        return codes;
    }

    /// <summary>Decodes <paramref name="codes"/> chunk by chunk (the same vectors as <see cref="QuantizerExtensions.Decode(IQuantizer, CodeSet, int?)"/>), with progress and cancellation between chunks.</summary>
    /// <exception cref="ArgumentException">The codes have another layout, or hold padding bits or indices the model does not have.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static VectorSet Decode(this IQuantizer quantizer, CodeSet codes, int? steps, IProgress<CodingProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(codes);
        RequireLayout(quantizer, codes.Layout);
        int d = quantizer.Dimension, size = quantizer.CodeSize;
        var vectors = new float[(long)codes.Count * d];
        for (int first = 0; first < codes.Count; first += DefaultChunkVectors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(DefaultChunkVectors, codes.Count - first);
            quantizer.Decode(codes.Data.AsSpan(first * size, count * size), vectors.AsSpan(first * d, count * d), steps);
            progress?.Report(new CodingProgress(first + count, codes.Count));
        }
        return VectorSet.FromArray(vectors, d);
    }

    /// <summary>
    /// Encodes the vectors of <paramref name="inputPath"/> (<c>.fvecs</c>, <c>.bvecs</c> or <c>.npy</c>; only
    /// <paramref name="rows"/> when given) into a 2-D uint8 <c>.npy</c> of codes at <paramref name="outputPath"/>, one chunk
    /// of <paramref name="chunkVectors"/> at a time. The output is written to a temporary file and renamed into place when
    /// complete, so an interrupted run leaves no partial file. Returns the number of vectors encoded.
    /// </summary>
    /// <exception cref="FileNotFoundException">The input does not exist.</exception>
    /// <exception cref="VectorFileException">The input is not a vector file, or the range is outside it.</exception>
    /// <exception cref="ArgumentException">The input has another dimension, or holds NaN/Inf (named with the row's chunk).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; <paramref name="outputPath"/> is left as it was.</exception>
    public static long EncodeFile(this IQuantizer quantizer, string inputPath, string outputPath, RowRange? rows = null,
        IProgress<CodingProgress>? progress = null, CancellationToken cancellationToken = default, int chunkVectors = DefaultChunkVectors)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkVectors, 1);
        VectorFileInfo info = VectorFile.GetInfo(inputPath);
        RequireDimension(quantizer, info.Dimension, nameof(inputPath));
        long total = Count(info.Rows, rows, inputPath);
        long done = 0;
        byte[] codes = new byte[(long)Math.Min(chunkVectors, Math.Max(total, 1)) * quantizer.CodeSize];
        AtomicFile.Write(outputPath, stream =>
        {
            VectorFile.WriteNpyHeader<byte>(stream, total, quantizer.CodeSize);
            foreach (VectorSet chunk in VectorFile.ReadChunks(inputPath, chunkVectors, rows))
            {
                cancellationToken.ThrowIfCancellationRequested();
                Span<byte> chunkCodes = codes.AsSpan(0, chunk.Count * quantizer.CodeSize);
                try
                {
                    quantizer.Encode(chunk.Data, chunkCodes);
                }
                catch (ArgumentException ex)
                {
                    throw new ArgumentException($"{inputPath}, rows {done}..{done + chunk.Count - 1} of the range: {ex.Message}", nameof(inputPath), ex);
                }
                stream.Write(chunkCodes);
                done += chunk.Count;
                progress?.Report(new CodingProgress(done, total));
            }
            if (done != total)
            {
                throw new VectorFileException($"{inputPath}: expected {total} rows, read {done}; the file changed while it was read.");
            }
        });
        return done;
    }

    /// <summary>
    /// Decodes the uint8 codes of <paramref name="codesPath"/> (written by <see cref="EncodeFile"/> or
    /// <see cref="VectorFile.WriteCodes"/>) into <paramref name="outputPath"/> (<c>.fvecs</c> or <c>.npy</c> by extension), one
    /// chunk at a time, atomically. <paramref name="steps"/> as in <see cref="IQuantizer.Decode"/>. Returns the number of codes decoded.
    /// </summary>
    /// <exception cref="VectorFileException">The codes file cannot be read or has rows of another code size.</exception>
    /// <exception cref="ArgumentException">Codes with padding bits or indices the model does not have; an output extension other than .fvecs/.npy.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; <paramref name="outputPath"/> is left as it was.</exception>
    public static long DecodeFile(this IQuantizer quantizer, string codesPath, string outputPath, int? steps = null,
        IProgress<CodingProgress>? progress = null, CancellationToken cancellationToken = default, int chunkVectors = DefaultChunkVectors)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkVectors, 1);
        VectorFileFormat format = VectorFile.FormatOf(outputPath);
        if (format is not (VectorFileFormat.Fvecs or VectorFileFormat.Npy))
        {
            throw new ArgumentException($"{outputPath}: decoded vectors are written as .fvecs or .npy.", nameof(outputPath));
        }
        VectorFileInfo info = VectorFile.GetInfo(codesPath);
        long total = info.Rows;
        if (total == 0 && format == VectorFileFormat.Fvecs)
        {
            throw new ArgumentException($"{codesPath} holds no codes, and an .fvecs file cannot hold zero rows; write .npy.", nameof(codesPath));
        }
        int d = quantizer.Dimension;
        var vectors = new float[(long)Math.Min(chunkVectors, Math.Max(total, 1)) * d];
        long done = 0;
        AtomicFile.Write(outputPath, stream =>
        {
            if (format == VectorFileFormat.Npy)
            {
                VectorFile.WriteNpyHeader<float>(stream, total, d);
            }
            while (done < total)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = (int)Math.Min(chunkVectors, total - done);
                CodeSet codes = VectorFile.ReadCodes(codesPath, quantizer.Layout, new RowRange((int)done, (int)done + count));
                Span<float> chunk = vectors.AsSpan(0, count * d);
                quantizer.Decode(codes.Data, chunk, steps);
                VectorFile.WriteRows<float>(stream, format, chunk, d);
                done += count;
                progress?.Report(new CodingProgress(done, total));
            }
        });
        return done;
    }

    private static long Count(long fileRows, RowRange? rows, string path)
    {
        if (rows is not RowRange range)
        {
            return fileRows;
        }
        long end = range.End ?? fileRows;
        if (range.Start > fileRows || end > fileRows || end < range.Start)
        {
            throw new VectorFileException($"{path}: rows {range} are outside the file's {fileRows} rows.");
        }
        return end - range.Start;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="parameter"/> when <paramref name="dimension"/> is not the quantizer's.</summary>
    internal static void RequireDimension(IQuantizer quantizer, int dimension, string parameter)
    {
        if (dimension != quantizer.Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {dimension}, but the quantizer was built for dimension {quantizer.Dimension}.", parameter);
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> (parameter "codes") when codes of <paramref name="layout"/> were not written by this quantizer's layout.</summary>
    internal static void RequireLayout(IQuantizer quantizer, CodeLayout layout)
    {
        if (layout != quantizer.Layout)
        {
            throw new ArgumentException($"The codes have {layout.Steps} steps of {layout.BitsPerStep} bits, but the quantizer writes {quantizer.Steps} steps of {quantizer.CodebookBits} bits: they were written by another model.", "codes");
        }
    }
}
