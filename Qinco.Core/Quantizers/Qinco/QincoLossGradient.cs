using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The training loss of QINCo (ALGORITHM.md §1.6) and its gradient for fixed codes: decode step by step through
/// <see cref="Qinco1Step.Forward"/> keeping every activation, sum the squared error after every step (only the last
/// with the final-step loss), and back-propagate through every step with <see cref="Qinco1Step.Backward"/> (x̂ is not
/// detached, so step m's error also trains the steps before it). With <paramref name="frozenFirstStep"/> (IVF, §3.1)
/// step 0 is the frozen centroids: no loss term, no gradient, and the gradient list starts with step 1's tensors.
/// One instance holds one worker's buffers.
/// </summary>
internal sealed class QincoLossGradient(QincoModel model, bool finalStepOnly, bool frozenFirstStep = false) : IDisposable
{
    private readonly Qinco1Activations[] _activations = CreateActivations(model);
    private int[][] _stepCodes = [];
    private float[][] _xhat = [];
    private float[] _gradient = [], _dz = [];

    /// <summary>
    /// Returns <c>Σ_i Σ_m ||x_i − x̂_{i,m}||² / D</c> over the <paramref name="n"/> normalised vectors and adds its
    /// gradient to <paramref name="gradients"/> (model-file order, shapes of <see cref="QincoModel.Tensors"/>).
    /// </summary>
    /// <param name="tables">Tables computed from the model's current parameters.</param>
    /// <param name="x">Shape [n, D], normalised.</param>
    /// <param name="codes">Shape [n, M].</param>
    /// <param name="n">Vectors.</param>
    /// <param name="gradients">Accumulators, one per model tensor.</param>
    /// <returns>The summed loss (divide by n for the mean).</returns>
    public double Compute(Qinco1Tables[] tables, ReadOnlySpan<float> x, ReadOnlySpan<int> codes, int n, IReadOnlyList<float[]> gradients)
    {
        int d = model.Dimension, steps = model.Steps;
        Ensure(n);
        for (int m = 0; m < steps; m++)
        {
            for (int i = 0; i < n; i++)
            {
                _stepCodes[m][i] = codes[i * steps + m];
            }
        }
        Layers.Gather(model.Codebook0, _stepCodes[0], _xhat[0], n, d);
        double loss = CountsInLoss(0) ? SquaredError(x, _xhat[0].AsSpan(0, n * d)) : 0;
        for (int m = 1; m < steps; m++)
        {
            Span<float> previous = _xhat[m - 1].AsSpan(0, n * d), current = _xhat[m].AsSpan(0, n * d);
            model.Step(m).Forward(tables[m], _stepCodes[m].AsSpan(0, n), previous, n, 1, _activations[m], threads: 1);
            TensorPrimitives.Add(previous, _activations[m].Output(n), current);
            loss += CountsInLoss(m) ? SquaredError(x, current) : 0;
        }

        Span<float> g = _gradient.AsSpan(0, n * d);
        g.Clear();
        int index = frozenFirstStep ? 0 : 1;
        var stepGradients = new Qinco1StepTensors[steps];
        for (int m = 1; m < steps; m++)
        {
            stepGradients[m] = Qinco1StepTensors.Take(gradients, ref index, model.Blocks);
        }
        for (int m = steps - 1; m >= 1; m--)
        {
            AddLossGradient(m, x, g);
            Span<float> dz = _dz.AsSpan(0, n * d);
            g.CopyTo(dz); // ∂f_m = ∂x̂_m; ∂x̂_{m−1} keeps g through the skip connection
            model.Step(m).Backward(_stepCodes[m].AsSpan(0, n), _xhat[m - 1].AsSpan(0, n * d), n, _activations[m], dz, g, stepGradients[m]);
        }
        if (!frozenFirstStep)
        {
            AddLossGradient(0, x, g);
            Layers.ScatterAdd(g, _stepCodes[0], gradients[0], n, d, d);
        }
        return loss / d;
    }

    public void Dispose()
    {
        foreach (Qinco1Activations? a in _activations)
        {
            a?.Dispose();
        }
    }

    private bool CountsInLoss(int step) => (!finalStepOnly || step == model.Steps - 1) && !(frozenFirstStep && step == 0);

    /// <summary>g += (2 / D)·(x̂_m − x) when step m's error is part of the loss.</summary>
    private void AddLossGradient(int step, ReadOnlySpan<float> x, Span<float> g)
    {
        if (!CountsInLoss(step))
        {
            return;
        }
        float scale = 2f / model.Dimension;
        ReadOnlySpan<float> reconstruction = _xhat[step].AsSpan(0, x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            g[i] += scale * (reconstruction[i] - x[i]);
        }
    }

    private void Ensure(int n)
    {
        int d = model.Dimension, steps = model.Steps;
        if (_gradient.Length >= n * d)
        {
            return;
        }
        _gradient = new float[n * d];
        _dz = new float[n * d];
        _stepCodes = new int[steps][];
        _xhat = new float[steps][];
        for (int m = 0; m < steps; m++)
        {
            _stepCodes[m] = new int[n];
            _xhat[m] = new float[n * d];
        }
    }

    private static Qinco1Activations[] CreateActivations(QincoModel model)
    {
        var activations = new Qinco1Activations[model.Steps];
        for (int m = 1; m < model.Steps; m++)
        {
            activations[m] = new Qinco1Activations(model.Dimension, model.Hidden, model.Blocks, keepLayers: true);
        }
        return activations;
    }

    private static double SquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        const int Chunk = 1024;
        for (int i = 0; i < a.Length; i += Chunk)
        {
            int length = Math.Min(Chunk, a.Length - i);
            sum += Distances.SquaredL2(a.Slice(i, length), b.Slice(i, length));
        }
        return sum;
    }
}
