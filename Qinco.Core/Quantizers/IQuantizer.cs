using System;
using System.IO;
using System.Threading;

namespace Qinco.Core;

/// <summary>
/// A vector quantizer: learns from training vectors (<see cref="Fit"/>), compresses vectors to
/// <see cref="CodeSize"/> bytes each (<see cref="Encode(ReadOnlySpan{float}, Span{byte})"/>) and reconstructs them
/// (<see cref="Decode(ReadOnlySpan{byte}, Span{float}, int?)"/>).
/// </summary>
/// <remarks>
/// <para>A code is <see cref="Steps"/> indices of <see cref="CodebookBits"/> bits each, packed least-significant bit
/// first into <see cref="CodeSize"/> bytes (one byte per step when <see cref="CodebookBits"/> is 8).</para>
/// <para>After <see cref="Fit"/> returns, the quantizer is immutable: <c>Encode</c> and <c>Decode</c> may be called
/// from any number of threads at once. <c>Fit</c> itself must not run concurrently with anything else.</para>
/// <para>Load a saved quantizer of any kind with <c>Quantizer.Load</c> (<see cref="Quantizer"/>).</para>
/// </remarks>
public interface IQuantizer
{
    /// <summary>The kind of quantizer, as recorded in model files.</summary>
    QuantizerKind Kind { get; }

    /// <summary>Floats per input vector.</summary>
    int Dimension { get; }

    /// <summary>Number of code indices per vector (M).</summary>
    int Steps { get; }

    /// <summary>Bits per code index; each step has <c>2^CodebookBits</c> codewords.</summary>
    int CodebookBits { get; }

    /// <summary>Bytes per encoded vector.</summary>
    int CodeSize { get; }

    /// <summary>The layout of the codes: <see cref="Steps"/> indices of <see cref="CodebookBits"/> bits in <see cref="CodeSize"/> bytes.</summary>
    CodeLayout Layout { get; }

    /// <summary>Whether the quantizer has been fitted (or loaded) and can encode.</summary>
    bool IsTrained { get; }

    /// <summary>A one-line description of the method and its shape, e.g. <c>"RQ beam 5 (M=8, K=256)"</c>.</summary>
    string Description { get; }

    /// <summary>How <c>Encode</c> searches for codes: beam width and candidates pre-selected per beam.</summary>
    EncoderSearch Search { get; }

    /// <summary>
    /// A quantizer that shares this one's trained state but encodes with <paramref name="search"/>. Codes stay
    /// compatible: decoding does not depend on how the codes were searched.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="search"/> is invalid or not supported by the method (the field is named).</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    IQuantizer WithSearch(EncoderSearch search);

    /// <summary>Learns the quantizer from <paramref name="train"/>; <paramref name="validation"/> drives early stopping where the method trains iteratively.</summary>
    /// <exception cref="ArgumentException">Empty set, wrong dimension, NaN/Inf values, or too few vectors for the codebook size.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (methods that keep a best model so far document otherwise).</exception>
    void Fit(VectorSet train, VectorSet? validation = null, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Encodes <c>vectors.Length / Dimension</c> vectors (row-major) into <paramref name="destination"/>, <see cref="CodeSize"/> bytes each.</summary>
    /// <exception cref="ArgumentException">The input is not a whole number of vectors, holds NaN/Inf, or the destination is too short.</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    void Encode(ReadOnlySpan<float> vectors, Span<byte> destination);

    /// <summary>Decodes <c>codes.Length / CodeSize</c> codes into <paramref name="destination"/>, <see cref="Dimension"/> floats each.</summary>
    /// <param name="codes">Packed codes, <see cref="CodeSize"/> bytes per vector.</param>
    /// <param name="destination">Row-major reconstructions.</param>
    /// <param name="steps">null (default) decodes every index; m in 0..<see cref="Steps"/> decodes the reconstruction after the
    /// first m steps (a coarser one; with an IVF list number, after the list's centroid and m steps, so 0 gives the centroid; without, 0 gives zeros).</param>
    /// <exception cref="ArgumentException">The codes are not a whole number of vectors, hold an index out of range or padding bits, or the destination is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is outside 0..<see cref="Steps"/>.</exception>
    void Decode(ReadOnlySpan<byte> codes, Span<float> destination, int? steps = null);

    /// <summary>Writes the trained quantizer in the Qinco model format (docs/model-format.md).</summary>
    void Save(Stream stream);
}
