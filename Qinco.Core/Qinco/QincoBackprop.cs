using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The training loss of QINCo1 (ALGORITHM.md §1.6) and its hand-written gradient: for fixed codes, decode step by step
/// keeping every activation, sum the squared error after every step, and back-propagate through all steps (x̂ is not
/// detached, so step m's error also trains steps &lt; m).
/// </summary>
/// <remarks>
/// Per neural step, with c = C[k] gathered and a = [c; x̂]:
/// <c>z0 = c + W·a + b</c>; for each block <c>p = U·z, z' = z + V·ReLU(p)</c>; <c>x̂' = x̂ + z_L</c>.
/// Backward, with g = ∂ℒ/∂x̂': <c>∂V += gᵀ·ReLU(p)</c>, <c>∂p = (g·V) ⊙ [p &gt; 0]</c>, <c>∂U += ∂pᵀ·z</c>,
/// <c>∂z += ∂p·U</c>; at the concat <c>∂W += ∂z0ᵀ·a</c>, <c>∂b += Σ ∂z0</c>, <c>∂a = ∂z0·W</c>,
/// <c>∂c = ∂z0 + ∂a[:D]</c> (scattered into C rows), <c>∂x̂ += ∂z_L + ∂a[D:]</c>.
/// One instance holds the activation buffers of one worker; not thread-safe.
/// </remarks>
internal sealed class QincoBackprop
{
    private readonly QincoNetwork _network;
    private int _capacity;
    private float[] _target = [];
    private float[][] _xhat = []; // x̂ after step m, [n, D] each
    private float[][] _concat = []; // [c; x̂_{m−1}], [n, 2D]
    private float[][][] _z = []; // z_l of step m, l = 0..L, [n, D]
    private float[][][] _pre = []; // p_l of step m, l = 1..L, [n, h]
    private float[] _g = [], _dz = [], _dh = [], _dconcat = [], _transposedD = [], _transposedH = [], _relu = [];

    private readonly bool _finalStepOnly;

    /// <param name="network">The model.</param>
    /// <param name="finalStepOnly">Whether only the full reconstruction's error counts (<see cref="QincoLoss.FinalStep"/>)
    /// instead of the sum over every prefix (<see cref="QincoLoss.AllSteps"/>, the reference).</param>
    public QincoBackprop(QincoNetwork network, bool finalStepOnly = false)
    {
        _network = network;
        _finalStepOnly = finalStepOnly;
    }

    /// <summary>
    /// Computes <c>Σ_i Σ_m ||x_i − x̂_{i,m}||² / D</c> (only m = M − 1 with the final-step loss) over the <paramref name="n"/> normalised vectors and adds its
    /// gradient to <paramref name="gradients"/> (shapes of <see cref="QincoNetwork.Tensors"/>).
    /// </summary>
    /// <param name="x">Shape [n, D], normalised.</param>
    /// <param name="codes">Shape [n, M].</param>
    /// <param name="n">Number of vectors.</param>
    /// <param name="gradients">Accumulators in the order and shapes of <see cref="QincoNetwork.Tensors"/>.</param>
    /// <returns>The summed loss (divide by the batch size for the mean).</returns>
    public double LossAndGradients(ReadOnlySpan<float> x, ReadOnlySpan<int> codes, int n, IReadOnlyList<float[]> gradients)
    {
        int d = _network.Dimension, h = _network.Hidden, steps = _network.Steps, blocks = _network.Blocks;
        Ensure(n);
        x.Slice(0, n * d).CopyTo(_target);
        double loss = Forward(codes, n);
        float scale = 2f / d;

        Span<float> g = _g.AsSpan(0, n * d);
        g.Clear();
        for (int s = steps - 1; s >= 1; s--)
        {
            if (!_finalStepOnly || s == steps - 1)
            {
                AddLossGradient(_xhat[s], n, scale, g);
            }
            Span<float> dz = _dz.AsSpan(0, n * d);
            g.CopyTo(dz); // ∂z_L = ∂x̂_s; ∂x̂_{s−1} keeps g through the skip connection
            for (int l = blocks; l >= 1; l--)
            {
                float[] up = _network.Up(s, l - 1), down = _network.Down(s, l - 1);
                Span<float> pre = _pre[s][l].AsSpan(0, n * h);
                Span<float> relu = _relu.AsSpan(0, n * h);
                TensorPrimitives.Max(pre, 0f, relu);
                // ∂V += dzᵀ·relu : [D, h]
                Transpose(dz, n, d, _transposedD);
                Gemm.Multiply(_transposedD.AsSpan(0, d * n), relu, gradients[_network.DownIndex(s, l - 1)], d, h, n, beta: 1f, maxDegreeOfParallelism: 1);
                // ∂p = (dz·V) ⊙ [p > 0]
                Span<float> dh = _dh.AsSpan(0, n * h);
                Gemm.Multiply(dz, down, dh, n, h, d, maxDegreeOfParallelism: 1);
                for (int i = 0; i < dh.Length; i++)
                {
                    if (pre[i] <= 0f)
                    {
                        dh[i] = 0f;
                    }
                }
                // ∂U += ∂pᵀ·z_{l−1} : [h, D]
                Transpose(dh, n, h, _transposedH);
                Gemm.Multiply(_transposedH.AsSpan(0, h * n), _z[s][l - 1].AsSpan(0, n * d), gradients[_network.UpIndex(s, l - 1)], h, d, n, beta: 1f, maxDegreeOfParallelism: 1);
                // ∂z_{l−1} = ∂z_l + ∂p·U
                Gemm.Multiply(dh, up, dz, n, d, h, beta: 1f, maxDegreeOfParallelism: 1);
            }
            // Concat layer: z0 = c + W·[c; x̂] + b.
            Span<float> concat = _concat[s].AsSpan(0, n * 2 * d);
            Transpose(dz, n, d, _transposedD);
            Gemm.Multiply(_transposedD.AsSpan(0, d * n), concat, gradients[_network.ConcatWeightIndex(s)], d, 2 * d, n, beta: 1f, maxDegreeOfParallelism: 1);
            float[] biasGradient = gradients[_network.ConcatBiasIndex(s)];
            for (int i = 0; i < n; i++)
            {
                TensorPrimitives.Add(biasGradient, dz.Slice(i * d, d), biasGradient);
            }
            Span<float> dconcat = _dconcat.AsSpan(0, n * 2 * d);
            Gemm.Multiply(dz, _network.ConcatWeight(s), dconcat, n, 2 * d, d, maxDegreeOfParallelism: 1);
            float[] codebookGradient = gradients[_network.CodebookIndex(s)];
            for (int i = 0; i < n; i++)
            {
                Span<float> gc = codebookGradient.AsSpan(codes[i * steps + s] * d, d);
                TensorPrimitives.Add(gc, dz.Slice(i * d, d), gc);
                TensorPrimitives.Add(gc, dconcat.Slice(i * 2 * d, d), gc);
                Span<float> gi = g.Slice(i * d, d);
                TensorPrimitives.Add(gi, dconcat.Slice(i * 2 * d + d, d), gi);
            }
        }
        if (!_finalStepOnly || steps == 1)
        {
            AddLossGradient(_xhat[0], n, scale, g);
        }
        float[] codebook0Gradient = gradients[0];
        for (int i = 0; i < n; i++)
        {
            Span<float> gc = codebook0Gradient.AsSpan(codes[i * steps] * d, d);
            TensorPrimitives.Add(gc, g.Slice(i * d, d), gc);
        }
        return loss;
    }

    private double Forward(ReadOnlySpan<int> codes, int n)
    {
        int d = _network.Dimension, h = _network.Hidden, steps = _network.Steps, blocks = _network.Blocks;
        Span<float> target = _target.AsSpan(0, n * d);
        Span<float> xhat0 = _xhat[0].AsSpan(0, n * d);
        for (int i = 0; i < n; i++)
        {
            _network.Codebook0.AsSpan(codes[i * steps] * d, d).CopyTo(xhat0.Slice(i * d, d));
        }
        double loss = !_finalStepOnly || steps == 1 ? SquaredError(target, xhat0) : 0;
        for (int s = 1; s < steps; s++)
        {
            Span<float> previous = _xhat[s - 1].AsSpan(0, n * d);
            Span<float> concat = _concat[s].AsSpan(0, n * 2 * d);
            float[] codebook = _network.Codebook(s);
            for (int i = 0; i < n; i++)
            {
                codebook.AsSpan(codes[i * steps + s] * d, d).CopyTo(concat.Slice(i * 2 * d, d));
                previous.Slice(i * d, d).CopyTo(concat.Slice(i * 2 * d + d, d));
            }
            Span<float> z0 = _z[s][0].AsSpan(0, n * d);
            Gemm.Multiply(concat, _network.ConcatWeight(s), z0, n, d, 2 * d, transposeB: true, maxDegreeOfParallelism: 1);
            float[] bias = _network.ConcatBias(s);
            for (int i = 0; i < n; i++)
            {
                Span<float> row = z0.Slice(i * d, d);
                TensorPrimitives.Add(row, bias, row);
                TensorPrimitives.Add(row, concat.Slice(i * 2 * d, d), row);
            }
            for (int l = 1; l <= blocks; l++)
            {
                Span<float> zin = _z[s][l - 1].AsSpan(0, n * d);
                Span<float> zout = _z[s][l].AsSpan(0, n * d);
                Span<float> pre = _pre[s][l].AsSpan(0, n * h);
                Span<float> relu = _relu.AsSpan(0, n * h);
                Gemm.Multiply(zin, _network.Up(s, l - 1), pre, n, h, d, transposeB: true, maxDegreeOfParallelism: 1);
                TensorPrimitives.Max(pre, 0f, relu);
                zin.CopyTo(zout);
                Gemm.Multiply(relu, _network.Down(s, l - 1), zout, n, d, h, transposeB: true, beta: 1f, maxDegreeOfParallelism: 1);
            }
            Span<float> current = _xhat[s].AsSpan(0, n * d);
            TensorPrimitives.Add(previous, _z[s][blocks].AsSpan(0, n * d), current);
            if (!_finalStepOnly || s == steps - 1)
            {
                loss += SquaredError(target, current);
            }
        }
        return loss / d;
    }

    /// <summary>g += scale · (x̂ − x).</summary>
    private void AddLossGradient(float[] xhat, int n, float scale, Span<float> g)
    {
        int length = n * _network.Dimension;
        ReadOnlySpan<float> target = _target.AsSpan(0, length);
        ReadOnlySpan<float> reconstruction = xhat.AsSpan(0, length);
        for (int i = 0; i < length; i++)
        {
            g[i] += scale * (reconstruction[i] - target[i]);
        }
    }

    private static double SquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        const int Chunk = 1024;
        for (int i = 0; i < a.Length; i += Chunk)
        {
            int len = Math.Min(Chunk, a.Length - i);
            sum += Distances.SquaredL2(a.Slice(i, len), b.Slice(i, len));
        }
        return sum;
    }

    private static void Transpose(ReadOnlySpan<float> source, int rows, int columns, float[] destination)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                destination[j * rows + i] = source[i * columns + j];
            }
        }
    }

    private void Ensure(int n)
    {
        if (n <= _capacity)
        {
            return;
        }
        int d = _network.Dimension, h = Math.Max(_network.Hidden, 1), steps = _network.Steps, blocks = _network.Blocks;
        _capacity = n;
        _target = new float[n * d];
        _xhat = new float[steps][];
        _concat = new float[steps][];
        _z = new float[steps][][];
        _pre = new float[steps][][];
        for (int s = 0; s < steps; s++)
        {
            _xhat[s] = new float[n * d];
            if (s == 0)
            {
                continue;
            }
            _concat[s] = new float[n * 2 * d];
            _z[s] = new float[blocks + 1][];
            _pre[s] = new float[blocks + 1][];
            for (int l = 0; l <= blocks; l++)
            {
                _z[s][l] = new float[n * d];
                _pre[s][l] = l == 0 ? [] : new float[n * h];
            }
        }
        _g = new float[n * d];
        _dz = new float[n * d];
        _dh = new float[n * h];
        _dconcat = new float[n * 2 * d];
        _transposedD = new float[n * d];
        _transposedH = new float[n * h];
        _relu = new float[n * h];
    }
}
