using System;
using System.Buffers;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// Greedy exhaustive QINCo1 encoding and decoding with the hoisting of ALGORITHM.md §8.1: per step, the
/// codeword-only part of the concat layer (<c>T[k] = C[k] + W_c·C[k]</c>) and of the first up-projection
/// (<c>S[k] = U_1·T[k]</c>) are computed once, so each candidate costs only the first down-projection and the
/// remaining blocks, evaluated for a tile of vectors × all K candidates as GEMMs against the same weights.
/// Works in normalised units. Immutable once built; safe to use from many threads.
/// </summary>
internal sealed class QincoEncoder
{
    /// <summary>Vectors whose K candidates are evaluated together (rows of the candidate GEMMs = Tile * K).</summary>
    private const int TileRows = 1024;

    private readonly QincoNetwork _network;
    private readonly float[][] _codewordTerm; // T_s [K, D]
    private readonly float[][] _codewordHidden; // S_s [K, h]
    private readonly float[][] _reconstructionWeight; // W_x [D, D]
    private readonly float[] _codebook0Norms;

    public QincoEncoder(QincoNetwork network, int maxDegreeOfParallelism = 1)
    {
        _network = network;
        int d = network.Dimension, k = network.CodebookSize, h = network.Hidden, steps = network.Steps;
        _codewordTerm = new float[steps][];
        _codewordHidden = new float[steps][];
        _reconstructionWeight = new float[steps][];
        var codewordWeight = new float[d * d];
        for (int s = 1; s < steps; s++)
        {
            float[] w = network.ConcatWeight(s);
            var wx = new float[d * d];
            for (int row = 0; row < d; row++)
            {
                w.AsSpan(row * 2 * d, d).CopyTo(codewordWeight.AsSpan(row * d, d));
                w.AsSpan(row * 2 * d + d, d).CopyTo(wx.AsSpan(row * d, d));
            }
            _reconstructionWeight[s] = wx;
            float[] c = network.Codebook(s);
            var t = (float[])c.Clone();
            Gemm.Multiply(c, codewordWeight, t, k, d, d, transposeB: true, beta: 1f, maxDegreeOfParallelism: maxDegreeOfParallelism);
            _codewordTerm[s] = t;
            if (network.Blocks > 0)
            {
                var sh = new float[k * h];
                Gemm.Multiply(t, network.Up(s, 0), sh, k, h, d, transposeB: true, maxDegreeOfParallelism: maxDegreeOfParallelism);
                _codewordHidden[s] = sh;
            }
        }
        _codebook0Norms = new float[k];
        Distances.RowNorms(network.Codebook0, k, d, _codebook0Norms);
    }

    public QincoNetwork Network => _network;

    /// <summary>Vectors per tile for the candidate GEMMs.</summary>
    public int TileVectors => Math.Max(1, TileRows / _network.CodebookSize);

    /// <summary>
    /// Greedily encodes <paramref name="n"/> normalised vectors.
    /// </summary>
    /// <param name="x">Shape [n, D], normalised.</param>
    /// <param name="n">Number of vectors.</param>
    /// <param name="codes">Shape [n, M].</param>
    /// <param name="reconstruction">Shape [n, D]: the normalised reconstruction, or empty.</param>
    /// <param name="gemmThreads">Threads each GEMM may use (when there are fewer tiles than threads).</param>
    public void Encode(ReadOnlySpan<float> x, int n, Span<int> codes, Span<float> reconstruction, int gemmThreads = 1)
    {
        int d = _network.Dimension, k = _network.CodebookSize, h = _network.Hidden, steps = _network.Steps;
        int tile = TileVectors;
        int maxRows = tile * k;
        float[] z = ArrayPool<float>.Shared.Rent(maxRows * d);
        float[] hidden = ArrayPool<float>.Shared.Rent(maxRows * Math.Max(h, 1));
        float[] errors = ArrayPool<float>.Shared.Rent(maxRows);
        float[] xhat = ArrayPool<float>.Shared.Rent(tile * d);
        float[] v = ArrayPool<float>.Shared.Rent(tile * d);
        float[] q = ArrayPool<float>.Shared.Rent(tile * Math.Max(h, 1));
        float[] residual = ArrayPool<float>.Shared.Rent(d);
        try
        {
            for (int start = 0; start < n; start += tile)
            {
                int count = Math.Min(tile, n - start);
                ReadOnlySpan<float> xt = x.Slice(start * d, count * d);
                Span<float> xh = xhat.AsSpan(0, count * d);

                // Step 0: nearest codeword of the plain codebook.
                Distances.SquaredL2Direct(xt, _network.Codebook0, count, k, d, errors.AsSpan(0, count * k), maxDegreeOfParallelism: 1);
                for (int t = 0; t < count; t++)
                {
                    int best = RowSelection.ArgMin(errors.AsSpan(t * k, k));
                    codes[(start + t) * steps] = best;
                    _network.Codebook0.AsSpan(best * d, d).CopyTo(xh.Slice(t * d, d));
                }

                for (int s = 1; s < steps; s++)
                {
                    int rows = count * k;
                    Span<float> vt = v.AsSpan(0, count * d);
                    // v = W_x·x̂ + b, the reconstruction-only part of the concat layer.
                    Gemm.Multiply(xh, _reconstructionWeight[s], vt, count, d, d, transposeB: true, maxDegreeOfParallelism: 1);
                    float[] bias = _network.ConcatBias(s);
                    float[] term = _codewordTerm[s];
                    Span<float> zt = z.AsSpan(0, rows * d);
                    for (int t = 0; t < count; t++)
                    {
                        TensorPrimitives.Add(vt.Slice(t * d, d), bias, vt.Slice(t * d, d));
                        for (int c = 0; c < k; c++)
                        {
                            TensorPrimitives.Add(term.AsSpan(c * d, d), vt.Slice(t * d, d), zt.Slice((t * k + c) * d, d));
                        }
                    }
                    if (_network.Blocks > 0)
                    {
                        // Block 1 without its up-projection: ReLU(S[k] + U_1·v).
                        Span<float> qt = q.AsSpan(0, count * h);
                        Gemm.Multiply(vt, _network.Up(s, 0), qt, count, h, d, transposeB: true, maxDegreeOfParallelism: 1);
                        Span<float> ht = hidden.AsSpan(0, rows * h);
                        float[] sh = _codewordHidden[s];
                        for (int t = 0; t < count; t++)
                        {
                            for (int c = 0; c < k; c++)
                            {
                                Span<float> row = ht.Slice((t * k + c) * h, h);
                                TensorPrimitives.Add(sh.AsSpan(c * h, h), qt.Slice(t * h, h), row);
                                TensorPrimitives.Max(row, 0f, row);
                            }
                        }
                        Gemm.Multiply(ht, _network.Down(s, 0), zt, rows, d, h, transposeB: true, beta: 1f, maxDegreeOfParallelism: gemmThreads);
                        for (int l = 1; l < _network.Blocks; l++)
                        {
                            Gemm.Multiply(zt, _network.Up(s, l), ht, rows, h, d, transposeB: true, maxDegreeOfParallelism: gemmThreads);
                            TensorPrimitives.Max(ht, 0f, ht);
                            Gemm.Multiply(ht, _network.Down(s, l), zt, rows, d, h, transposeB: true, beta: 1f, maxDegreeOfParallelism: gemmThreads);
                        }
                    }
                    // Pick, per vector, the candidate whose step output is closest to the residual x − x̂.
                    for (int t = 0; t < count; t++)
                    {
                        Span<float> r = residual.AsSpan(0, d);
                        TensorPrimitives.Subtract(xt.Slice(t * d, d), xh.Slice(t * d, d), r);
                        Distances.SquaredL2Direct(r, zt.Slice(t * k * d, k * d), 1, k, d, errors.AsSpan(0, k), maxDegreeOfParallelism: 1);
                        int best = RowSelection.ArgMin(errors.AsSpan(0, k));
                        codes[(start + t) * steps + s] = best;
                        TensorPrimitives.Add(xh.Slice(t * d, d), zt.Slice((t * k + best) * d, d), xh.Slice(t * d, d));
                    }
                }
                if (!reconstruction.IsEmpty)
                {
                    xh.CopyTo(reconstruction.Slice(start * d, count * d));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(z);
            ArrayPool<float>.Shared.Return(hidden);
            ArrayPool<float>.Shared.Return(errors);
            ArrayPool<float>.Shared.Return(xhat);
            ArrayPool<float>.Shared.Return(v);
            ArrayPool<float>.Shared.Return(q);
            ArrayPool<float>.Shared.Return(residual);
        }
    }

    /// <summary>
    /// Decodes <paramref name="n"/> codes (unpacked, [n, M]) using their first <paramref name="steps"/> indices;
    /// writes normalised reconstructions [n, D].
    /// </summary>
    public void Decode(ReadOnlySpan<int> codes, int n, int steps, Span<float> reconstruction)
    {
        int d = _network.Dimension, h = _network.Hidden, totalSteps = _network.Steps;
        const int Block = 256;
        float[] z = ArrayPool<float>.Shared.Rent(Block * d);
        float[] v = ArrayPool<float>.Shared.Rent(Block * d);
        float[] hidden = ArrayPool<float>.Shared.Rent(Block * Math.Max(h, 1));
        try
        {
            for (int start = 0; start < n; start += Block)
            {
                int count = Math.Min(Block, n - start);
                Span<float> xh = reconstruction.Slice(start * d, count * d);
                for (int t = 0; t < count; t++)
                {
                    _network.Codebook0.AsSpan(codes[(start + t) * totalSteps] * d, d).CopyTo(xh.Slice(t * d, d));
                }
                for (int s = 1; s < steps; s++)
                {
                    Span<float> zt = z.AsSpan(0, count * d);
                    Span<float> vt = v.AsSpan(0, count * d);
                    Gemm.Multiply(xh, _reconstructionWeight[s], vt, count, d, d, transposeB: true, maxDegreeOfParallelism: 1);
                    float[] term = _codewordTerm[s];
                    float[] bias = _network.ConcatBias(s);
                    for (int t = 0; t < count; t++)
                    {
                        int code = codes[(start + t) * totalSteps + s];
                        Span<float> row = zt.Slice(t * d, d);
                        TensorPrimitives.Add(term.AsSpan(code * d, d), vt.Slice(t * d, d), row);
                        TensorPrimitives.Add(row, bias, row);
                    }
                    Span<float> ht = hidden.AsSpan(0, count * h);
                    for (int l = 0; l < _network.Blocks; l++)
                    {
                        Gemm.Multiply(zt, _network.Up(s, l), ht, count, h, d, transposeB: true, maxDegreeOfParallelism: 1);
                        TensorPrimitives.Max(ht, 0f, ht);
                        Gemm.Multiply(ht, _network.Down(s, l), zt, count, d, h, transposeB: true, beta: 1f, maxDegreeOfParallelism: 1);
                    }
                    TensorPrimitives.Add(xh, zt, xh);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(z);
            ArrayPool<float>.Shared.Return(v);
            ArrayPool<float>.Shared.Return(hidden);
        }
    }
}
