using System;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// Residual quantization's steps for <see cref="BeamSearch{TSteps}"/>: <c>f_m(C_m[k], x̂) = C_m[k]</c>, every
/// codeword scored, beams tracked by their residual r (<c>r − C_m[k]</c> after the step). The scores use
/// <c>||r||² + ||c||² − 2⟨r, c⟩</c> with one GEMM per block of beams (ALGORITHM.md §6.3), as Faiss does.
/// </summary>
/// <param name="codebooks">Shape [M, K, D].</param>
/// <param name="codewordNorms">Shape [M, K]: <c>||C_m[k]||²</c>.</param>
/// <param name="codebookSize">K.</param>
/// <param name="dimension">D.</param>
internal readonly struct CodebookSteps(float[] codebooks, float[] codewordNorms, int codebookSize, int dimension) : IBeamSteps
{
    public int Dimension => dimension;

    public int CodebookSize(int step) => codebookSize;

    public bool TracksResidual => true;

    /// <summary>Keeps the [vectors · beams, K] distance table near 64 K floats per 8 beams of K codewords.</summary>
    public int ScoringBlockVectors(int beamsIn, int perBeam) => Math.Max(1, 65536 / Math.Max(1, beamsIn * codebookSize / 8));

    public bool Preselects(int step) => false;

    public ReadOnlySpan<float> SelectionCodebook(int step) => Codebook(step);

    public void Score(int step, ReadOnlySpan<float> states, ReadOnlySpan<float> residuals, ReadOnlySpan<int> candidates, int slots, int perBeam, Span<float> errors, int threads)
    {
        int d = dimension, k = codebookSize;
        Gemm.Multiply(residuals, Codebook(step), errors, slots, k, d, transposeB: true, maxDegreeOfParallelism: threads);
        ReadOnlySpan<float> norms = codewordNorms.AsSpan(step * k, k);
        for (int slot = 0; slot < slots; slot++)
        {
            float residualNorm = TensorPrimitives.SumOfSquares(residuals.Slice(slot * d, d));
            Span<float> row = errors.Slice(slot * k, k);
            for (int c = 0; c < k; c++)
            {
                row[c] = residualNorm + norms[c] - 2f * row[c];
            }
        }
    }

    public void Extend(int step, ReadOnlySpan<float> target, ReadOnlySpan<float> parent, int row, int code, Span<float> destination) =>
        TensorPrimitives.Subtract(parent, Codebook(step).Slice(code * dimension, dimension), destination);

    private ReadOnlySpan<float> Codebook(int step) => codebooks.AsSpan(step * codebookSize * dimension, codebookSize * dimension);
}
