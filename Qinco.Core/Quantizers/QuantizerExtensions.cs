using System;
using System.IO;

namespace Qinco.Core;

/// <summary>Array and file conveniences over the span-based <see cref="IQuantizer"/> methods.</summary>
public static class QuantizerExtensions
{
    /// <summary>
    /// Fits <paramref name="quantizer"/> on vectors read from <paramref name="train"/> chunk by chunk, e.g. a
    /// <see cref="IO.VectorFileSource"/> over a file larger than memory; see
    /// <see cref="QuantizerBase.Fit(IVectorSource, VectorSet?, IProgress{FitProgress}?, System.Threading.CancellationToken)"/>.
    /// An in-memory <see cref="VectorSet"/> is fitted as <see cref="IQuantizer.Fit"/> does.
    /// </summary>
    /// <exception cref="NotSupportedException">A quantizer of another library given a source that is not a <see cref="VectorSet"/>.</exception>
    public static void Fit(this IQuantizer quantizer, IVectorSource train, VectorSet? validation = null, IProgress<FitProgress>? progress = null, System.Threading.CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        switch (quantizer, train)
        {
            case (QuantizerBase library, _):
                library.Fit(train, validation, progress, cancellationToken);
                break;
            case (_, VectorSet set):
                quantizer.Fit(set, validation, progress, cancellationToken);
                break;
            default:
                throw new NotSupportedException($"{quantizer.GetType().Name} fits only in-memory VectorSets; read the training vectors with VectorFile.Read.");
        }
    }

    /// <summary>Encodes a set of vectors into a <see cref="CodeSet"/> of <c>vectors.Count</c> codes of the quantizer's <see cref="IQuantizer.Layout"/>.</summary>
    /// <exception cref="ArgumentException">The vectors have another dimension, or hold NaN/Inf.</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public static CodeSet Encode(this IQuantizer quantizer, VectorSet vectors)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(vectors);
        QuantizerStreaming.RequireDimension(quantizer, vectors.Dimension, nameof(vectors));
        var codes = new CodeSet(vectors.Count, quantizer.Layout);
        quantizer.Encode(vectors.Data, codes.Data);
        return codes;
    }

    /// <summary>Decodes a <see cref="CodeSet"/> written with the quantizer's layout into a new set.</summary>
    /// <param name="quantizer">The quantizer that wrote the codes.</param>
    /// <param name="codes">The codes; their layout must be the quantizer's.</param>
    /// <param name="steps">null decodes every index; m decodes the reconstruction after the first m steps (see <see cref="IQuantizer.Decode"/>).</param>
    /// <exception cref="ArgumentException">The codes have another layout, or hold padding bits.</exception>
    public static VectorSet Decode(this IQuantizer quantizer, CodeSet codes, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(codes);
        QuantizerStreaming.RequireLayout(quantizer, codes.Layout);
        return quantizer.Decode(codes.Data.AsSpan(), steps);
    }

    /// <summary>Decodes packed codes (<see cref="IQuantizer.CodeSize"/> bytes each) into a new set.</summary>
    /// <param name="quantizer">The quantizer that wrote the codes.</param>
    /// <param name="codes">Packed codes.</param>
    /// <param name="steps">null decodes every index; m decodes the reconstruction after the first m steps (see <see cref="IQuantizer.Decode"/>).</param>
    public static VectorSet Decode(this IQuantizer quantizer, ReadOnlySpan<byte> codes, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        if (codes.Length % quantizer.CodeSize != 0)
        {
            throw new ArgumentException($"The codes hold {codes.Length} bytes, which is not a whole number of {quantizer.CodeSize}-byte codes.", nameof(codes));
        }
        var result = new VectorSet(codes.Length / quantizer.CodeSize, quantizer.Dimension);
        quantizer.Decode(codes, result.Data, steps);
        return result;
    }

    /// <summary>
    /// Saves to a file atomically: the model is written to a temporary file beside <paramref name="path"/> and renamed
    /// over it, so a crash never leaves a half-written model under the final name.
    /// </summary>
    public static void Save(this IQuantizer quantizer, string path)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        AtomicFile.Write(path, quantizer.Save);
    }
}

/// <summary>
/// Writes files atomically: to a temporary file beside the target, flushed to disk, then renamed over it, so a reader
/// sees the old file or the new one, never half of one (models, and Qinco.Search's indexes).
/// </summary>
public static class AtomicFile
{
    /// <summary>Runs <paramref name="write"/> on a temporary file beside <paramref name="path"/> and renames it over <paramref name="path"/>; the temporary file is removed on failure.</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="IOException">The folder cannot be written, or the rename fails; whatever <paramref name="write"/> throws passes through.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
