using System;
using System.Numerics.Tensors;
using Qinco.Core;

namespace Qinco.Search;

/// <summary>
/// A k-means <see cref="CoarseQuantizer"/> in front of a quantizer that encodes residuals: a vector is stored in the
/// list of its nearest centroid c as the code of <c>x − c</c>, and decodes to <c>c + Decode(code)</c>. With
/// <see cref="CoarseQuantizer.Single"/> (one zero centroid) it is a flat, non-IVF codec.
/// </summary>
/// <remarks>
/// The quantizer should be trained on residuals of the same coarse quantizer
/// (<see cref="CoarseQuantizer.Residuals(VectorSet, int)"/>); any trained quantizer with 8-bit code indices works.
/// Immutable and thread-safe.
/// </remarks>
public sealed class ResidualIvfCodec : IIvfCodec
{
    /// <summary>The name stored in index files.</summary>
    public const string CodecName = "residual";

    /// <summary>Combines a coarse quantizer and a trained quantizer of residuals.</summary>
    /// <exception cref="ArgumentException">The quantizer is untrained, of another dimension, IVF-QINCo (use <see cref="IvfQincoCodec"/>), or its code indices are not 8 bits.</exception>
    public ResidualIvfCodec(CoarseQuantizer coarse, IQuantizer quantizer)
    {
        ArgumentNullException.ThrowIfNull(coarse);
        ArgumentNullException.ThrowIfNull(quantizer);
        if (!quantizer.IsTrained)
        {
            throw new ArgumentException("The quantizer is not trained: fit it or load a saved model first.", nameof(quantizer));
        }
        if (quantizer.Dimension != coarse.Dimension)
        {
            throw new ArgumentException($"The quantizer encodes dimension {quantizer.Dimension}, the coarse quantizer {coarse.Dimension}.", nameof(quantizer));
        }
        if (quantizer is IvfQincoQuantizer)
        {
            throw new ArgumentException("IVF-QINCo has its own lists: index it with IvfQincoCodec, not behind another coarse quantizer.", nameof(quantizer));
        }
        if (quantizer.CodebookBits != 8)
        {
            throw new ArgumentException($"Look-up-table search needs one byte per code index (8-bit codebooks); {quantizer.Description} has {quantizer.CodebookBits}-bit indices.", nameof(quantizer));
        }
        Coarse = coarse;
        Quantizer = quantizer;
    }

    /// <summary>The coarse quantizer.</summary>
    public CoarseQuantizer Coarse { get; }

    /// <inheritdoc/>
    public IQuantizer Quantizer { get; }

    /// <inheritdoc/>
    public int Dimension => Coarse.Dimension;

    /// <inheritdoc/>
    public int ListCount => Coarse.ListCount;

    /// <inheritdoc/>
    public ReadOnlySpan<float> Centroids => Coarse.Centroids;

    /// <inheritdoc/>
    public CodeLayout Layout => Quantizer.Layout;

    /// <inheritdoc/>
    public string Name => CodecName;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The spans do not agree, or a vector holds NaN/Inf.</exception>
    public void Encode(ReadOnlySpan<float> vectors, Span<int> lists, Span<byte> codes)
    {
        Coarse.Assign(vectors, lists, Quantizer is QuantizerBase b ? b.Parallelism.MaxDegreeOfParallelism : -1);
        int n = vectors.Length / Dimension;
        float[] residuals = new float[vectors.Length];
        Coarse.Residuals(vectors, lists[..n], residuals);
        Quantizer.Encode(residuals, codes);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The spans do not agree, a list number or a code index is out of range.</exception>
    public void Decode(ReadOnlySpan<int> lists, ReadOnlySpan<byte> codes, Span<float> destination)
    {
        int n = lists.Length, d = Dimension;
        Quantizer.Decode(codes, destination);
        for (int i = 0; i < n; i++)
        {
            Span<float> row = destination.Slice(i * d, d);
            TensorPrimitives.Add(row, Coarse.Centroid(lists[i]), row);
        }
    }
}
