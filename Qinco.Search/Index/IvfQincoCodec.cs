using System;
using Qinco.Core;

namespace Qinco.Search;

/// <summary>
/// IVF-QINCo's own lists (ALGORITHM.md §3.1, §4.3b): the quantizer's coarse centroids are the inverted lists, and a
/// vector's IVF-QINCo code <c>[list, k_1..k_M]</c> is stored in list <c>list</c> as its M step indices. The index's
/// additive decoder is fitted to those step indices and the residuals <c>x − centroid[list]</c>; the shortlist is
/// decoded by IVF-QINCo itself, whose steps are conditioned on the centroid.
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed class IvfQincoCodec : IIvfCodec
{
    /// <summary>The name stored in index files.</summary>
    public const string CodecName = "ivf-qinco";

    private readonly IvfQincoQuantizer _quantizer;
    private readonly float[] _centroids;

    /// <summary>Wraps a trained IVF-QINCo quantizer.</summary>
    /// <param name="quantizer">Trained, with 8-bit step codebooks (K = 256) so that step indices are bytes.</param>
    /// <exception cref="ArgumentException">The quantizer is untrained or its step indices are not 8 bits.</exception>
    public IvfQincoCodec(IvfQincoQuantizer quantizer)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        if (!quantizer.IsTrained)
        {
            throw new ArgumentException("The quantizer is not trained: fit it or load a saved model first.", nameof(quantizer));
        }
        if (quantizer.CodebookBits != 8)
        {
            throw new ArgumentException($"Look-up-table search needs one byte per code index (8-bit codebooks); {quantizer.Description} has {quantizer.CodebookBits}-bit indices.", nameof(quantizer));
        }
        _quantizer = quantizer;
        _centroids = quantizer.GetCentroids();
        Layout = new CodeLayout(quantizer.Steps, quantizer.CodebookBits);
    }

    /// <inheritdoc/>
    public IQuantizer Quantizer => _quantizer;

    /// <inheritdoc/>
    public int Dimension => _quantizer.Dimension;

    /// <inheritdoc/>
    public int ListCount => _quantizer.Lists;

    /// <inheritdoc/>
    /// <remarks>IVF-QINCo's coarse centroids in data units (<see cref="IvfQincoQuantizer.GetCentroids"/>).</remarks>
    public ReadOnlySpan<float> Centroids => _centroids;

    /// <inheritdoc/>
    /// <remarks>The M step indices of an IVF-QINCo code, one byte each, without its list number.</remarks>
    public CodeLayout Layout { get; }

    /// <inheritdoc/>
    public string Name => CodecName;

    /// <inheritdoc/>
    /// <remarks>Encodes with the quantizer's own search (its beam, candidates and probed lists), then splits each code.</remarks>
    /// <exception cref="ArgumentException">The spans do not agree, or a vector holds NaN/Inf.</exception>
    public void Encode(ReadOnlySpan<float> vectors, Span<int> lists, Span<byte> codes)
    {
        int n = vectors.Length / Dimension, m = Layout.Steps;
        if (vectors.Length != (long)n * Dimension || lists.Length < n || codes.Length < (long)n * m)
        {
            throw new ArgumentException($"{vectors.Length} floats of dimension {Dimension}, room for {lists.Length} lists and {codes.Length} code bytes do not agree.", nameof(vectors));
        }
        var full = new byte[(long)n * _quantizer.CodeSize];
        _quantizer.Encode(vectors, full);
        Span<int> steps = stackalloc int[m];
        for (int i = 0; i < n; i++)
        {
            lists[i] = _quantizer.SplitCode(full.AsSpan(i * _quantizer.CodeSize, _quantizer.CodeSize), steps);
            Span<byte> code = codes.Slice(i * m, m);
            for (int s = 0; s < m; s++)
            {
                code[s] = (byte)steps[s];
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Packs (list, steps) back into IVF-QINCo codes and decodes them with the full decoder, in data units.</remarks>
    /// <exception cref="ArgumentException">The spans do not agree, or a list number is out of range.</exception>
    public void Decode(ReadOnlySpan<int> lists, ReadOnlySpan<byte> codes, Span<float> destination)
    {
        int n = lists.Length, m = Layout.Steps, size = _quantizer.CodeSize;
        if (codes.Length != (long)n * m || destination.Length < (long)n * Dimension)
        {
            throw new ArgumentException($"{n} list numbers, {codes.Length} code bytes and room for {destination.Length} floats do not agree ({m} bytes and {Dimension} floats per entry).", nameof(codes));
        }
        var full = new byte[(long)n * size];
        Span<int> indices = stackalloc int[m + 1];
        for (int i = 0; i < n; i++)
        {
            if ((uint)lists[i] >= (uint)ListCount)
            {
                throw new ArgumentException($"Entry {i} names list {lists[i]}, outside [0, {ListCount}).", nameof(lists));
            }
            indices[0] = lists[i];
            for (int s = 0; s < m; s++)
            {
                indices[s + 1] = codes[(i * m) + s];
            }
            CodePacking.Pack(indices, _quantizer.Layout, full.AsSpan(i * size, size));
        }
        _quantizer.Decode(full, destination[..(n * Dimension)]);
    }
}
