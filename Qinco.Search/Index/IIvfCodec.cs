using System;
using Qinco.Core;

namespace Qinco.Search;

/// <summary>
/// What an <see cref="IvfIndex"/> needs from its compression: coarse centroids (the inverted lists), and the encoding
/// of a vector as (list number, code of its residual) and back. The index scans codes with an additive decoder
/// fitted to <c>x − centroid[list]</c> (ALGORITHM.md §4.1–4.2) and re-ranks a shortlist with <see cref="Decode"/>.
/// </summary>
/// <remarks>
/// <para><see cref="ResidualIvfCodec"/> puts a k-means <see cref="CoarseQuantizer"/> in front of any quantizer trained
/// on residuals (RQ or QINCo). IVF-QINCo (<see cref="IvfQincoCodec"/>), whose code starts with a list number
/// and whose steps are conditioned on the centroid, implements this interface by splitting its own codes: its
/// centroids are its IVF codebook, <see cref="Encode"/> splits each code into (list, step indices) and
/// <see cref="Decode"/> runs its decoder on the list number and the steps.</para>
/// <para>Implementations are immutable and thread-safe.</para>
/// </remarks>
public interface IIvfCodec
{
    /// <summary>D: floats per vector.</summary>
    int Dimension { get; }

    /// <summary>Number of inverted lists (centroids).</summary>
    int ListCount { get; }

    /// <summary>Shape: [ListCount, Dimension], in raw (un-normalised) units.</summary>
    ReadOnlySpan<float> Centroids { get; }

    /// <summary>The layout of the per-list codes (without any list number): M indices, 8 bits each for LUT scanning.</summary>
    CodeLayout Layout { get; }

    /// <summary>The model saved with the index (the codes are never decoded by another).</summary>
    IQuantizer Quantizer { get; }

    /// <summary>A short name stored in index files to pick the reader, e.g. <c>"residual"</c>.</summary>
    string Name { get; }

    /// <summary>Encodes vectors: each one's list and the code of its residual.</summary>
    /// <param name="vectors">Shape: [n, D], finite.</param>
    /// <param name="lists">Shape: [n].</param>
    /// <param name="codes">Shape: [n, Layout.CodeSize].</param>
    void Encode(ReadOnlySpan<float> vectors, Span<int> lists, Span<byte> codes);

    /// <summary>Reconstructs vectors (centroid plus decoded residual, raw units) from their lists and codes.</summary>
    /// <param name="lists">Shape: [n].</param>
    /// <param name="codes">Shape: [n, Layout.CodeSize].</param>
    /// <param name="destination">Shape: [n, D].</param>
    void Decode(ReadOnlySpan<int> lists, ReadOnlySpan<byte> codes, Span<float> destination);
}
