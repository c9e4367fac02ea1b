using System;

namespace Qinco.Core;

/// <summary>
/// Vectors read by row number without holding them all in memory: the training set of a streamed fit
/// (<c>QuantizerExtensions.Fit(IQuantizer, IVectorSource, ...)</c>). <see cref="VectorSet"/> is the in-memory source;
/// <see cref="IO.VectorFileSource"/> reads the rows of a <c>.fvecs</c>, <c>.bvecs</c> or <c>.npy</c> file when asked.
/// </summary>
/// <remarks>Both read methods may be called from several threads at once.</remarks>
public interface IVectorSource
{
    /// <summary>Number of vectors (rows).</summary>
    int Count { get; }

    /// <summary>Floats per vector.</summary>
    int Dimension { get; }

    /// <summary>Copies rows <c>[first, first + count)</c> into <paramref name="destination"/>, row-major [count, <see cref="Dimension"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside 0..<see cref="Count"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> holds fewer than count × <see cref="Dimension"/> floats.</exception>
    void ReadRange(int first, int count, Span<float> destination);

    /// <summary>Copies the rows numbered <paramref name="rows"/> (in that order) into <paramref name="destination"/>, row-major [rows.Length, <see cref="Dimension"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException">A row number is outside 0..<see cref="Count"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> holds fewer than rows.Length × <see cref="Dimension"/> floats.</exception>
    void ReadRows(ReadOnlySpan<int> rows, Span<float> destination);
}
