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

    public QincoEncoder(QincoNetwork network, int maxDegreeOfParallelism = 1, int beamWidth = 1, int candidates = 0)
    {
        _network = network;
        BeamWidth = beamWidth;
        Candidates = candidates <= 0 ? network.CodebookSize : Math.Min(candidates, network.CodebookSize);
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

    /// <summary>Beams kept per vector between steps (1 = greedy).</summary>
    public int BeamWidth { get; }

    /// <summary>Candidate codewords each beam evaluates with the network (K when pre-selection is off).</summary>
    public int Candidates { get; }

    /// <summary>Vectors per tile for the candidate GEMMs.</summary>
    public int TileVectors => Math.Max(1, TileRows / (BeamWidth * Candidates));

    /// <summary>
    /// Encodes <paramref name="n"/> normalised vectors: greedy and exhaustive with the default settings (§1.5), or
    /// with QINCo2's candidate pre-selection and beam search (§5.3–5.4) when <see cref="BeamWidth"/> &gt; 1 or
    /// <see cref="Candidates"/> &lt; K: each beam keeps the <see cref="Candidates"/> codewords nearest to its residual,
    /// the network runs on those only, and the best <see cref="BeamWidth"/> (beam, codeword) pairs by full
    /// reconstruction error survive (one at the last step).
    /// </summary>
    /// <param name="x">Shape [n, D], normalised.</param>
    /// <param name="n">Number of vectors.</param>
    /// <param name="codes">Shape [n, M].</param>
    /// <param name="reconstruction">Shape [n, D]: the normalised reconstruction, or empty.</param>
    /// <param name="gemmThreads">Threads each GEMM may use (when there are fewer tiles than threads).</param>
    public void Encode(ReadOnlySpan<float> x, int n, Span<int> codes, Span<float> reconstruction, int gemmThreads = 1)
    {
        int d = _network.Dimension, k = _network.CodebookSize, h = Math.Max(_network.Hidden, 1), steps = _network.Steps;
        int tile = TileVectors, beams = BeamWidth, candidates = Candidates;
        int maxRows = tile * beams * Math.Max(candidates, beams);
        using var scratch = new Scratch(maxRows, tile, beams, d, h, k, steps);
        for (int start = 0; start < n; start += tile)
        {
            int count = Math.Min(tile, n - start);
            ReadOnlySpan<float> xt = x.Slice(start * d, count * d);

            // Step 0: the nearest codewords of the plain codebook start the beams.
            int width = Math.Min(beams, k);
            Distances.SquaredL2Direct(xt, _network.Codebook0, count, k, d, scratch.Errors.AsSpan(0, count * k), maxDegreeOfParallelism: 1);
            for (int t = 0; t < count; t++)
            {
                Span<int> best = scratch.Selected.AsSpan(0, width);
                SelectSmallest(scratch.Errors.AsSpan(t * k, k), width, best, scratch.SelectedValues);
                for (int b = 0; b < width; b++)
                {
                    int slot = t * width + b;
                    scratch.Codes[slot * steps] = best[b];
                    _network.Codebook0.AsSpan(best[b] * d, d).CopyTo(scratch.Xhat.AsSpan(slot * d, d));
                }
            }

            for (int s = 1; s < steps; s++)
            {
                int perBeam = candidates == k ? k : Math.Min(k, s == 1 ? Math.Max(candidates, beams) : candidates);
                int slots = count * width;
                int rows = slots * perBeam;
                Span<float> zt = scratch.Z.AsSpan(0, rows * d);
                Span<float> vt = scratch.V.AsSpan(0, slots * d);
                Span<float> residuals = scratch.Residuals.AsSpan(0, slots * d);
                Span<int> rowCodes = scratch.RowCodes.AsSpan(0, rows);
                TensorPrimitives.Subtract(RepeatRows(xt, count, width, d, scratch.Targets), scratch.Xhat.AsSpan(0, slots * d), residuals);

                // Candidates: every codeword, or the nearest ones to each beam's residual.
                for (int slot = 0; slot < slots; slot++)
                {
                    Span<int> chosen = rowCodes.Slice(slot * perBeam, perBeam);
                    if (perBeam == k)
                    {
                        for (int c = 0; c < k; c++)
                        {
                            chosen[c] = c;
                        }
                    }
                    else
                    {
                        Distances.SquaredL2Direct(residuals.Slice(slot * d, d), _network.Codebook(s), 1, k, d, scratch.Errors.AsSpan(0, k), maxDegreeOfParallelism: 1);
                        SelectSmallest(scratch.Errors.AsSpan(0, k), perBeam, chosen, scratch.SelectedValues);
                    }
                }

                // v = W_x·x̂ + b per beam; z0 = T[k] + v per candidate.
                Gemm.Multiply(scratch.Xhat.AsSpan(0, slots * d), _reconstructionWeight[s], vt, slots, d, d, transposeB: true, maxDegreeOfParallelism: 1);
                float[] bias = _network.ConcatBias(s);
                float[] term = _codewordTerm[s];
                for (int slot = 0; slot < slots; slot++)
                {
                    Span<float> v = vt.Slice(slot * d, d);
                    TensorPrimitives.Add(v, bias, v);
                    for (int c = 0; c < perBeam; c++)
                    {
                        int row = slot * perBeam + c;
                        TensorPrimitives.Add(term.AsSpan(rowCodes[row] * d, d), v, zt.Slice(row * d, d));
                    }
                }
                if (_network.Blocks > 0)
                {
                    // Block 1 without its up-projection: ReLU(S[k] + U_1·v).
                    Span<float> qt = scratch.Q.AsSpan(0, slots * h);
                    Gemm.Multiply(vt, _network.Up(s, 0), qt, slots, h, d, transposeB: true, maxDegreeOfParallelism: 1);
                    Span<float> ht = scratch.Hidden.AsSpan(0, rows * h);
                    float[] sh = _codewordHidden[s];
                    for (int row = 0; row < rows; row++)
                    {
                        Span<float> hiddenRow = ht.Slice(row * h, h);
                        TensorPrimitives.Add(sh.AsSpan(rowCodes[row] * h, h), qt.Slice(row / perBeam * h, h), hiddenRow);
                        TensorPrimitives.Max(hiddenRow, 0f, hiddenRow);
                    }
                    Gemm.Multiply(ht, _network.Down(s, 0), zt, rows, d, h, transposeB: true, beta: 1f, maxDegreeOfParallelism: gemmThreads);
                    for (int l = 1; l < _network.Blocks; l++)
                    {
                        Gemm.Multiply(zt, _network.Up(s, l), ht, rows, h, d, transposeB: true, maxDegreeOfParallelism: gemmThreads);
                        TensorPrimitives.Max(ht, 0f, ht);
                        Gemm.Multiply(ht, _network.Down(s, l), zt, rows, d, h, transposeB: true, beta: 1f, maxDegreeOfParallelism: gemmThreads);
                    }
                }

                // Score every (beam, candidate) by the full error ||x − x̂ − z|| = ||r − z|| and keep the best pairs.
                Span<float> errors = scratch.Errors.AsSpan(0, rows);
                for (int slot = 0; slot < slots; slot++)
                {
                    Distances.SquaredL2Direct(residuals.Slice(slot * d, d), zt.Slice(slot * perBeam * d, perBeam * d), 1, perBeam, d, errors.Slice(slot * perBeam, perBeam), maxDegreeOfParallelism: 1);
                }
                int nextWidth = s == steps - 1 ? 1 : Math.Min(beams, width * perBeam);
                for (int t = 0; t < count; t++)
                {
                    Span<int> best = scratch.Selected.AsSpan(0, nextWidth);
                    SelectSmallest(errors.Slice(t * width * perBeam, width * perBeam), nextWidth, best, scratch.SelectedValues);
                    for (int b = 0; b < nextWidth; b++)
                    {
                        int row = t * width * perBeam + best[b];
                        int parent = row / perBeam;
                        int next = t * nextWidth + b;
                        scratch.Codes.AsSpan(parent * steps, s).CopyTo(scratch.NextCodes.AsSpan(next * steps, s));
                        scratch.NextCodes[next * steps + s] = rowCodes[row];
                        TensorPrimitives.Add(scratch.Xhat.AsSpan(parent * d, d), zt.Slice(row * d, d), scratch.NextXhat.AsSpan(next * d, d));
                    }
                }
                scratch.Swap();
                width = nextWidth;
            }
            if (steps == 1 && width > 1)
            {
                // A one-step code keeps only the best start (beam 0).
                for (int t = 0; t < count; t++)
                {
                    scratch.Codes[t * steps] = scratch.Codes[t * width * steps];
                    scratch.Xhat.AsSpan(t * width * d, d).CopyTo(scratch.Xhat.AsSpan(t * d, d));
                }
            }
            scratch.Codes.AsSpan(0, count * steps).CopyTo(codes.Slice(start * steps, count * steps));
            if (!reconstruction.IsEmpty)
            {
                scratch.Xhat.AsSpan(0, count * d).CopyTo(reconstruction.Slice(start * d, count * d));
            }
        }
    }

    /// <summary>Indices of the <paramref name="count"/> smallest values, ascending (ties: smaller index first).</summary>
    private static void SelectSmallest(ReadOnlySpan<float> values, int count, Span<int> indices, float[] scratchValues)
    {
        if (count == 1)
        {
            indices[0] = RowSelection.ArgMin(values);
            return;
        }
        RowSelection.TopK(values, 1, values.Length, count, indices, scratchValues.AsSpan(0, count));
    }

    /// <summary>Each of the <paramref name="count"/> rows of <paramref name="x"/> repeated <paramref name="times"/> times.</summary>
    private static ReadOnlySpan<float> RepeatRows(ReadOnlySpan<float> x, int count, int times, int d, float[] destination)
    {
        if (times == 1)
        {
            return x;
        }
        for (int t = 0; t < count; t++)
        {
            for (int b = 0; b < times; b++)
            {
                x.Slice(t * d, d).CopyTo(destination.AsSpan((t * times + b) * d, d));
            }
        }
        return destination.AsSpan(0, count * times * d);
    }

    /// <summary>Pooled buffers of one Encode call; beam state is double-buffered (<see cref="Swap"/>).</summary>
    private sealed class Scratch : IDisposable
    {
        public Scratch(int maxRows, int tile, int beams, int d, int h, int k, int steps)
        {
            int slots = tile * beams;
            Z = Rent(maxRows * d);
            Hidden = Rent(maxRows * h);
            Errors = Rent(Math.Max(maxRows, tile * k));
            V = Rent(slots * d);
            Q = Rent(slots * h);
            Residuals = Rent(slots * d);
            Targets = Rent(slots * d);
            Xhat = Rent(slots * d);
            NextXhat = Rent(slots * d);
            SelectedValues = Rent(Math.Max(beams, k));
            RowCodes = ArrayPool<int>.Shared.Rent(maxRows);
            Codes = ArrayPool<int>.Shared.Rent(slots * steps);
            NextCodes = ArrayPool<int>.Shared.Rent(slots * steps);
            Selected = ArrayPool<int>.Shared.Rent(Math.Max(beams, k));
        }

        public float[] Z { get; }
        public float[] Hidden { get; }
        public float[] Errors { get; }
        public float[] V { get; }
        public float[] Q { get; }
        public float[] Residuals { get; }
        public float[] Targets { get; }
        public float[] Xhat { get; private set; }
        public float[] NextXhat { get; private set; }
        public float[] SelectedValues { get; }
        public int[] RowCodes { get; }
        public int[] Codes { get; private set; }
        public int[] NextCodes { get; private set; }
        public int[] Selected { get; }

        public void Swap()
        {
            (Xhat, NextXhat) = (NextXhat, Xhat);
            (Codes, NextCodes) = (NextCodes, Codes);
        }

        public void Dispose()
        {
            foreach (float[] buffer in new[] { Z, Hidden, Errors, V, Q, Residuals, Targets, Xhat, NextXhat, SelectedValues })
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
            foreach (int[] buffer in new[] { RowCodes, Codes, NextCodes, Selected })
            {
                ArrayPool<int>.Shared.Return(buffer);
            }
        }

        private static float[] Rent(int length) => ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
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
