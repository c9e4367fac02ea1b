using System;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Qinco.Core;
using Qinco.Core.Numerics;

namespace Qinco.Search;

/// <summary>
/// An additive (AQ) decoder: M fixed codebooks <c>A_m</c> of K codewords such that a code <c>k_1..k_M</c>
/// reconstructs as <c>Σ_m A_m[k_m]</c> (ALGORITHM.md §4.1). It approximates any quantizer's decoder so that distances
/// to codes can be computed from per-query look-up tables (§4.2) without decoding.
/// </summary>
/// <remarks>
/// <para>For residual quantization the quantizer's own codebooks are an exact additive decoder
/// (<see cref="FromResidualQuantizer"/>, <see cref="IsExact"/>). For any other quantizer (QINCo, IVF-QINCo)
/// <see cref="Fit(ReadOnlySpan{float}, CodeSet, int, int, CancellationToken)"/> finds the codebooks minimising
/// <c>Σ_i ||y_i − Σ_m A_m[k_{i,m}]||²</c> by least squares.</para>
/// <para>An instance is immutable and thread-safe.</para>
/// </remarks>
public sealed class AdditiveDecoder
{
    /// <summary>The largest M·K the least-squares fit accepts (its normal matrix is [M·K, M·K] doubles: 512 MiB at 8192).</summary>
    public const int MaxFitColumns = 8192;

    private readonly float[] _codebooks;

    /// <summary>Wraps codebooks (the array is kept, not copied).</summary>
    /// <param name="codebooks">Shape: [steps, codebookSize, dimension], row-major, finite.</param>
    /// <param name="steps">M, at least 1.</param>
    /// <param name="codebookSize">K, at least 1.</param>
    /// <param name="dimension">D, at least 1.</param>
    /// <param name="isExact">Whether these codebooks are the quantizer's exact decoder (true for RQ's own codebooks).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    /// <exception cref="ArgumentException">The array does not hold [steps, codebookSize, dimension] values, or holds NaN/Inf.</exception>
    public AdditiveDecoder(float[] codebooks, int steps, int codebookSize, int dimension, bool isExact = false)
    {
        ArgumentNullException.ThrowIfNull(codebooks);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(codebookSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (codebooks.Length != (long)steps * codebookSize * dimension)
        {
            throw new ArgumentException($"The codebooks hold {codebooks.Length} floats; [{steps}, {codebookSize}, {dimension}] needs {(long)steps * codebookSize * dimension}.", nameof(codebooks));
        }
        int bad = Checks.IndexOfNonFinite(codebooks);
        if (bad >= 0)
        {
            throw new ArgumentException($"Codebook value {bad} is {codebooks[bad]}: every value must be finite.", nameof(codebooks));
        }
        _codebooks = codebooks;
        (Steps, CodebookSize, Dimension, IsExact) = (steps, codebookSize, dimension, isExact);
    }

    /// <summary>M: codebooks, one per code index.</summary>
    public int Steps { get; }

    /// <summary>K: codewords per codebook.</summary>
    public int CodebookSize { get; }

    /// <summary>D: floats per codeword.</summary>
    public int Dimension { get; }

    /// <summary>Whether the codebooks reproduce the quantizer's own decoder exactly (RQ), so that re-ranking by a full decode is unnecessary.</summary>
    public bool IsExact { get; }

    /// <summary>Shape: [M, K, D], row-major: codeword k of codebook m starts at <c>(m·K + k)·D</c>.</summary>
    public ReadOnlySpan<float> Codebooks => _codebooks;

    /// <summary>The codebooks of a residual quantizer: its decoder is additive, so they are exact (<see cref="IsExact"/>).</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public static AdditiveDecoder FromResidualQuantizer(ResidualQuantizer quantizer)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        int m = quantizer.Steps, k = quantizer.CodebookSize, d = quantizer.Dimension;
        var codebooks = new float[(long)m * k * d];
        for (int step = 0; step < m; step++)
        {
            quantizer.GetCodebook(step).CopyTo(codebooks.AsSpan(step * k * d, k * d));
        }
        return new AdditiveDecoder(codebooks, m, k, d, isExact: true);
    }

    /// <summary>
    /// Fits M codebooks to <paramref name="codes"/> so that they reconstruct <paramref name="targets"/> with the
    /// least squared error (ALGORITHM.md §4.1): normal equations <c>(ΦᵀΦ + λI) A = ΦᵀY</c> accumulated and solved in
    /// double precision by Cholesky, with the tiny ridge <c>λ = 1e-8 · trace(ΦᵀΦ) / (M·K)</c>; codewords no code uses
    /// get zero vectors (as the minimum-norm solution gives them).
    /// </summary>
    /// <param name="targets">Shape: [n, dimension]: the vectors the codes stand for (residuals to their centroid with IVF).</param>
    /// <param name="codes">n codes; their layout gives M and K = 2^bits. A list number (IVF layouts) is skipped: the fit
    /// uses the M step indices after it, and the targets are then the residuals to each code's centroid.</param>
    /// <param name="dimension">D, at least 1.</param>
    /// <param name="maxDegreeOfParallelism">Threads; -1 uses all processors. The result does not depend on it.</param>
    /// <param name="cancellationToken">Checked between the stages and during the factorisation.</param>
    /// <exception cref="ArgumentException">The row counts differ, the set is empty, or a target is NaN/Inf.</exception>
    /// <exception cref="ArgumentOutOfRangeException">M·K exceeds <see cref="MaxFitColumns"/>, or a bad degree of parallelism.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static AdditiveDecoder Fit(ReadOnlySpan<float> targets, CodeSet codes, int dimension, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Checks.Parallelism(maxDegreeOfParallelism);
        int n = codes.Count, m = codes.Layout.Steps, k = 1 << codes.Layout.BitsPerStep, d = dimension;
        if (targets.Length != (long)n * d)
        {
            throw new ArgumentException($"The targets hold {targets.Length} floats; {n} codes of dimension {d} need {(long)n * d}.", nameof(targets));
        }
        if (n == 0)
        {
            throw new ArgumentException("There are no codes to fit the decoder to.", nameof(codes));
        }
        if ((long)m * k > MaxFitColumns)
        {
            throw new ArgumentOutOfRangeException(nameof(codes), $"M·K = {(long)m * k} exceeds {MaxFitColumns}: the normal equations would not fit in memory.");
        }
        int bad = Checks.IndexOfNonFinite(targets);
        if (bad >= 0)
        {
            throw new ArgumentException($"Target {bad / d}, component {bad % d} is {targets[bad]}: every value must be finite.", nameof(targets));
        }
        int columns = m * k;
        var indices = new int[(long)n * m];
        int perCode = codes.Layout.IndicesPerCode;
        Span<int> unpacked = stackalloc int[perCode];
        for (int i = 0; i < n; i++)
        {
            CodePacking.Unpack(codes.Row(i), codes.Layout, unpacked);
            unpacked[(perCode - m)..].CopyTo(indices.AsSpan(i * m, m));
        }
        cancellationToken.ThrowIfCancellationRequested();

        // G = ΦᵀΦ (lower triangle, exact integer counts held in double); R = ΦᵀY, one thread per step's block of rows.
        var gram = new double[(long)columns * columns];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<int> row = indices.AsSpan(i * m, m);
            for (int a = 0; a < m; a++)
            {
                long ra = (long)(a * k + row[a]) * columns;
                for (int b = 0; b <= a; b++)
                {
                    gram[ra + (b * k) + row[b]] += 1;
                }
            }
        }
        var rhs = new double[(long)columns * d];
        float[] y = targets.ToArray();
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = cancellationToken }, step =>
        {
            for (int i = 0; i < n; i++)
            {
                Span<double> r = rhs.AsSpan((step * k + indices[(i * m) + step]) * d, d);
                ReadOnlySpan<float> yi = y.AsSpan(i * d, d);
                for (int j = 0; j < d; j++)
                {
                    r[j] += yi[j];
                }
            }
        });
        double trace = 0;
        for (int c = 0; c < columns; c++)
        {
            trace += gram[((long)c * columns) + c];
        }
        double ridge = 1e-8 * trace / columns;
        CholeskySolver.FactorInPlace(gram, columns, ridge, cancellationToken);
        CholeskySolver.Solve(gram, columns, rhs, d);
        var codebooks = new float[(long)columns * d];
        for (long i = 0; i < codebooks.Length; i++)
        {
            codebooks[i] = (float)rhs[i];
        }
        return new AdditiveDecoder(codebooks, m, k, d);
    }

    /// <summary>
    /// The additive decoder for <paramref name="quantizer"/>: its own codebooks for RQ, else a least-squares fit to the
    /// codes it gives <paramref name="targets"/> (encoded here). For IVF-QINCo the fit is to the step indices after the
    /// list number and to the residuals <c>x − centroid[list]</c> (§4.1), as an <see cref="IvfQincoCodec"/> index uses it.
    /// </summary>
    /// <param name="quantizer">A trained quantizer.</param>
    /// <param name="targets">Training vectors in the space the quantizer encodes (residuals with a coarse quantizer in
    /// front; raw vectors for IVF-QINCo, whose residuals are taken here), shape [n, D].</param>
    /// <param name="maxDegreeOfParallelism">Threads of the fit; -1 uses all processors.</param>
    /// <param name="cancellationToken">Checked during the fit.</param>
    /// <exception cref="ArgumentException">The quantizer is untrained, or the targets are empty or of another dimension.</exception>
    public static AdditiveDecoder ForQuantizer(IQuantizer quantizer, VectorSet targets, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(targets);
        if (!quantizer.IsTrained)
        {
            throw new ArgumentException("The quantizer is not trained: fit it or load a saved model first.", nameof(quantizer));
        }
        if (quantizer is ResidualQuantizer rq)
        {
            return FromResidualQuantizer(rq);
        }
        if (quantizer is IvfQincoQuantizer ivf)
        {
            var codec = new IvfQincoCodec(ivf);
            var lists = new int[targets.Count];
            var steps = new CodeSet(targets.Count, codec.Layout);
            codec.Encode(targets.Data, lists, steps.Data);
            return Fit(IvfIndex.Residuals(codec, targets.Data, lists), steps, targets.Dimension, maxDegreeOfParallelism, cancellationToken);
        }
        CodeSet codes = quantizer.Encode(targets);
        return Fit(targets.Data, codes, targets.Dimension, maxDegreeOfParallelism, cancellationToken);
    }

    /// <summary>Reconstructs codes as <c>Σ_m A_m[k_m]</c>.</summary>
    /// <param name="codes">Code indices, shape [n, M], each below K.</param>
    /// <param name="destination">Shape: [n, D].</param>
    /// <exception cref="ArgumentException">The codes are not a whole number of M-index codes, an index is out of range, or the destination is too short.</exception>
    public void Decode(ReadOnlySpan<byte> codes, Span<float> destination)
    {
        int n = CheckCodes(codes, destination.Length, nameof(destination));
        int m = Steps, d = Dimension;
        for (int i = 0; i < n; i++)
        {
            Span<float> output = destination.Slice(i * d, d);
            ReadOnlySpan<byte> code = codes.Slice(i * m, m);
            _codebooks.AsSpan(code[0] * d, d).CopyTo(output);
            for (int step = 1; step < m; step++)
            {
                TensorPrimitives.Add(output, Codeword(step, code[step]), output);
            }
        }
    }

    /// <summary>The squared norm <c>||Σ_m A_m[k_m]||²</c> of each code's reconstruction.</summary>
    /// <param name="codes">Code indices, shape [n, M].</param>
    /// <param name="destination">Shape: [n].</param>
    /// <exception cref="ArgumentException">As <see cref="Decode"/>.</exception>
    public void SquaredNorms(ReadOnlySpan<byte> codes, Span<float> destination)
    {
        int n = CheckCodes(codes, destination.Length * (long)Dimension, nameof(destination));
        Span<float> scratch = Dimension <= 1024 ? stackalloc float[Dimension] : new float[Dimension];
        for (int i = 0; i < n; i++)
        {
            Decode(codes.Slice(i * Steps, Steps), scratch);
            destination[i] = TensorPrimitives.SumOfSquares(scratch);
        }
    }

    /// <summary>
    /// Look-up tables for a batch of queries, as one GEMM (ALGORITHM.md §4.2, (4.2)):
    /// <c>destination[q, m·K + k] = scale · ⟨query_q, A_m[k]⟩</c>.
    /// </summary>
    /// <param name="queries">Shape: [count, D].</param>
    /// <param name="count">Queries in the batch.</param>
    /// <param name="destination">Shape: [count, M·K].</param>
    /// <param name="scale">Factor applied to every entry (the search uses −2, so that a code's distance is a plain sum).</param>
    /// <param name="maxDegreeOfParallelism">Threads of the GEMM; -1 uses all processors. The result does not depend on it.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public void ComputeLookupTables(ReadOnlySpan<float> queries, int count, Span<float> destination, float scale = 1f, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int columns = Steps * CodebookSize;
        if (queries.Length < (long)count * Dimension)
        {
            throw new ArgumentException($"The queries hold {queries.Length} floats; {count} queries of dimension {Dimension} need {(long)count * Dimension}.", nameof(queries));
        }
        if (destination.Length < (long)count * columns)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; [{count}, {columns}] needs {(long)count * columns}.", nameof(destination));
        }
        Gemm.Multiply(queries, _codebooks, destination, count, columns, Dimension, transposeB: true, alpha: scale, maxDegreeOfParallelism: maxDegreeOfParallelism);
    }

    /// <summary>Mean over codes of <c>||y_i − Σ_m A_m[k_{i,m}]||²</c> (double accumulation): the decoder's MSE on <paramref name="targets"/>.</summary>
    /// <param name="targets">Shape: [n, D].</param>
    /// <param name="codes">Code indices, shape [n, M].</param>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public double MeanSquaredError(ReadOnlySpan<float> targets, ReadOnlySpan<byte> codes)
    {
        int n = CheckCodes(codes, targets.Length, nameof(targets));
        if (targets.Length != (long)n * Dimension)
        {
            throw new ArgumentException($"The targets hold {targets.Length} floats; {n} codes need {(long)n * Dimension}.", nameof(targets));
        }
        Span<float> scratch = Dimension <= 1024 ? stackalloc float[Dimension] : new float[Dimension];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            Decode(codes.Slice(i * Steps, Steps), scratch);
            ReadOnlySpan<float> y = targets.Slice(i * Dimension, Dimension);
            for (int j = 0; j < Dimension; j++)
            {
                double diff = (double)y[j] - scratch[j];
                total += diff * diff;
            }
        }
        return n == 0 ? 0 : total / n;
    }

    /// <summary>Codeword k of codebook m, D floats.</summary>
    internal ReadOnlySpan<float> Codeword(int step, int index) => _codebooks.AsSpan(((step * CodebookSize) + index) * Dimension, Dimension);

    private int CheckCodes(ReadOnlySpan<byte> codes, long destinationFloats, string destinationName)
    {
        if (codes.Length % Steps != 0)
        {
            throw new ArgumentException($"The codes hold {codes.Length} bytes, which is not a whole number of {Steps}-index codes.", nameof(codes));
        }
        int n = codes.Length / Steps;
        if (destinationFloats < (long)n * Dimension)
        {
            throw new ArgumentException($"The {destinationName} is too short for {n} codes of dimension {Dimension}.", destinationName);
        }
        if (CodebookSize < 256)
        {
            for (int i = 0; i < codes.Length; i++)
            {
                if (codes[i] >= CodebookSize)
                {
                    throw new ArgumentException($"Code {i / Steps}, step {i % Steps} holds index {codes[i]}, outside [0, {CodebookSize}).", nameof(codes));
                }
            }
        }
        return n;
    }
}
