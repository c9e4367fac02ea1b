using System;
using System.IO;

namespace Qinco.Core;

/// <summary>Array and file conveniences over the span-based <see cref="IQuantizer"/> methods.</summary>
public static class QuantizerExtensions
{
    /// <summary>Encodes a set of vectors; returns <c>vectors.Count * CodeSize</c> bytes.</summary>
    public static byte[] Encode(this IQuantizer quantizer, VectorSet vectors)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Dimension != quantizer.Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {vectors.Dimension}, but the quantizer was built for dimension {quantizer.Dimension}.", nameof(vectors));
        }
        var codes = new byte[(long)vectors.Count * quantizer.CodeSize];
        quantizer.Encode(vectors.Data, codes);
        return codes;
    }

    /// <summary>Decodes packed codes (<see cref="IQuantizer.CodeSize"/> bytes each) into a new set.</summary>
    /// <param name="quantizer">The quantizer that wrote the codes.</param>
    /// <param name="codes">Packed codes.</param>
    /// <param name="steps">Decode only this many leading steps; 0 decodes all.</param>
    public static VectorSet Decode(this IQuantizer quantizer, ReadOnlySpan<byte> codes, int steps = 0)
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
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                quantizer.Save(stream);
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
