using System;
using System.Buffers;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// One step of residual-quantization beam search (ALGORITHM.md §6.3): every incoming beam of a vector is extended by
/// every codeword of the step, and the <c>beamOut</c> extensions with the smallest squared residual are kept, jointly
/// over the beams, ordered by (error, beam * K + codeword).
/// </summary>
internal static class BeamSearch
{
    /// <summary>Vectors processed per block so the distance table stays cache-sized.</summary>
    public static int VectorsPerBlock(int beamIn, int codebookSize) => Math.Max(1, 65536 / Math.Max(1, beamIn * codebookSize / 8));

    /// <summary>
    /// Advances the beams of <paramref name="n"/> vectors by one step.
    /// </summary>
    /// <param name="codebook">Shape [K, d].</param>
    /// <param name="codewordNorms">Shape [K]: squared norms of the codewords.</param>
    /// <param name="codebookSize">K.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="residualsIn">Shape [n, beamIn, d].</param>
    /// <param name="codesIn">Shape [n, beamIn, step].</param>
    /// <param name="n">Number of vectors.</param>
    /// <param name="beamIn">Beams per vector on entry.</param>
    /// <param name="step">Index of this step (codes so far per beam).</param>
    /// <param name="beamOut">Beams per vector to keep.</param>
    /// <param name="residualsOut">Shape [n, beamOut, d].</param>
    /// <param name="codesOut">Shape [n, beamOut, step + 1].</param>
    /// <param name="errorsOut">Shape [n, beamOut]: squared norm of each kept residual.</param>
    public static void Advance(
        ReadOnlySpan<float> codebook, ReadOnlySpan<float> codewordNorms, int codebookSize, int d,
        ReadOnlySpan<float> residualsIn, ReadOnlySpan<int> codesIn, int n, int beamIn, int step, int beamOut,
        Span<float> residualsOut, Span<int> codesOut, Span<float> errorsOut)
    {
        int k = codebookSize;
        int block = VectorsPerBlock(beamIn, k);
        float[] table = ArrayPool<float>.Shared.Rent(block * beamIn * k);
        float[] norms = ArrayPool<float>.Shared.Rent(block * beamIn);
        float[] bestValues = ArrayPool<float>.Shared.Rent(beamOut);
        int[] bestIndices = ArrayPool<int>.Shared.Rent(beamOut);
        try
        {
            for (int start = 0; start < n; start += block)
            {
                int count = Math.Min(block, n - start);
                int rows = count * beamIn;
                ReadOnlySpan<float> r = residualsIn.Slice(start * beamIn * d, rows * d);
                Span<float> dots = table.AsSpan(0, rows * k);
                Gemm.Multiply(r, codebook, dots, rows, k, d, transposeB: true, maxDegreeOfParallelism: 1);
                for (int row = 0; row < rows; row++)
                {
                    norms[row] = System.Numerics.Tensors.TensorPrimitives.SumOfSquares(r.Slice(row * d, d));
                }
                for (int v = 0; v < count; v++)
                {
                    int vector = start + v;
                    int kept = SelectBest(dots.Slice(v * beamIn * k, beamIn * k), norms.AsSpan(v * beamIn, beamIn), codewordNorms, k, beamOut, bestValues, bestIndices);
                    for (int j = 0; j < kept; j++)
                    {
                        int parent = bestIndices[j] / k;
                        int code = bestIndices[j] - parent * k;
                        int outSlot = vector * beamOut + j;
                        int inSlot = vector * beamIn + parent;
                        System.Numerics.Tensors.TensorPrimitives.Subtract(
                            residualsIn.Slice(inSlot * d, d), codebook.Slice(code * d, d), residualsOut.Slice(outSlot * d, d));
                        codesIn.Slice(inSlot * step, step).CopyTo(codesOut.Slice(outSlot * (step + 1), step));
                        codesOut[outSlot * (step + 1) + step] = code;
                        errorsOut[outSlot] = Math.Max(bestValues[j], 0f);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(table);
            ArrayPool<float>.Shared.Return(norms);
            ArrayPool<float>.Shared.Return(bestValues);
            ArrayPool<int>.Shared.Return(bestIndices);
        }
    }

    /// <summary>
    /// Keeps the <paramref name="beamOut"/> smallest <c>||r_b||² + ||c_k||² − 2⟨r_b, c_k⟩</c> over all (b, k), sorted by
    /// value then by <c>b * K + k</c>; returns how many were kept (beamOut is at most beamIn * K).
    /// </summary>
    private static int SelectBest(ReadOnlySpan<float> dots, ReadOnlySpan<float> residualNorms, ReadOnlySpan<float> codewordNorms, int k, int beamOut, float[] values, int[] indices)
    {
        int beamIn = residualNorms.Length;
        int kept = 0;
        for (int b = 0; b < beamIn; b++)
        {
            float rn = residualNorms[b];
            ReadOnlySpan<float> row = dots.Slice(b * k, k);
            for (int c = 0; c < k; c++)
            {
                float value = rn + codewordNorms[c] - 2f * row[c];
                if (kept == beamOut && !(value < values[kept - 1]))
                {
                    continue; // candidates arrive in increasing index order, so an equal value never displaces
                }
                int pos = kept == beamOut ? kept - 1 : kept++;
                while (pos > 0 && value < values[pos - 1])
                {
                    values[pos] = values[pos - 1];
                    indices[pos] = indices[pos - 1];
                    pos--;
                }
                values[pos] = value;
                indices[pos] = b * k + c;
            }
        }
        return kept;
    }
}
