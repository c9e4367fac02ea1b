using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The training loss of QINCo (ALGORITHM.md §1.6) and its gradient for fixed codes: decode step by step through
/// <see cref="QincoStep.Forward"/> keeping every activation, sum the squared error after every step (only the last
/// with the final-step loss), and back-propagate through every step with <see cref="QincoStep.Backward"/> (x̂ is not
/// detached, so step m's error also trains the steps before it). With <paramref name="frozenFirstStep"/> (IVF, §3.1)
/// step 0 is the frozen centroids: no loss term, no gradient, and the gradient list starts with step 1's tensors.
/// One instance holds one worker's buffers.
/// </summary>
internal sealed class QincoLossGradient(QincoModel model, bool finalStepOnly, bool frozenFirstStep = false, DeadCodewordReset.Tally? tally = null) : IDisposable
{
    private readonly QincoActivations[] _activations = CreateActivations(model);
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
    public double Compute(QincoStepTables[] tables, ReadOnlySpan<float> x, ReadOnlySpan<int> codes, int n, IReadOnlyList<float[]> gradients)
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
            tally?.Add(m, _stepCodes[m], x, previous, n);
            TensorPrimitives.Add(previous, _activations[m].Output(n), current);
            loss += CountsInLoss(m) ? SquaredError(x, current) : 0;
        }

        Span<float> g = _gradient.AsSpan(0, n * d);
        g.Clear();
        int index = frozenFirstStep ? 0 : 1;
        var stepGradients = new QincoStepTensors[steps];
        for (int m = 1; m < steps; m++)
        {
            stepGradients[m] = QincoStepTensors.Take(gradients, ref index, model.StepShape);
        }
        for (int m = steps - 1; m >= 1; m--)
        {
            AddLossGradient(m, x, g);
            Span<float> dz = _dz.AsSpan(0, n * d);
            g.CopyTo(dz); // ∂f_m = ∂x̂_m; ∂x̂_{m−1} keeps g through the skip connection
            model.Step(m).Backward(tables[m], _stepCodes[m].AsSpan(0, n), _xhat[m - 1].AsSpan(0, n * d), n, _activations[m], dz, g, stepGradients[m]);
            if (stepGradients[m].Preselection is { } dPreselection)
            {
                loss += PreselectionLoss(m, x, n, dPreselection);
            }
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
        foreach (QincoActivations? a in _activations)
        {
            a?.Dispose();
        }
    }

    /// <summary>
    /// QINCo2's auxiliary term of (5.7) for step m: <c>Σ_i ||x_i − sg(x̂_{i,m−1}) − C̃_m[k_{i,m}]||² / D</c>, which trains
    /// the pre-selection codebook alone to be a plain RQ codebook for the codes the full model chose; adds its gradient
    /// <c>(2 / D)·(C̃[k] − (x − x̂_{m−1}))</c> to <paramref name="dPreselection"/> and returns the term times D.
    /// </summary>
    private double PreselectionLoss(int m, ReadOnlySpan<float> x, int n, float[] dPreselection)
    {
        int d = model.Dimension;
        float[] preselection = model.Step(m).Parameters.Preselection!;
        Span<float> difference = _dz.AsSpan(0, d);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            int code = _stepCodes[m][i];
            // C̃[k] − (x − x̂_{m−1}) = C̃[k] + x̂_{m−1} − x
            TensorPrimitives.Add(preselection.AsSpan(code * d, d), _xhat[m - 1].AsSpan(i * d, d), difference);
            TensorPrimitives.Subtract(difference, x.Slice(i * d, d), difference);
            loss += TensorPrimitives.SumOfSquares(difference);
            Span<float> target = dPreselection.AsSpan(code * d, d);
            TensorPrimitives.MultiplyAdd(difference, 2f / d, target, target);
        }
        return loss; // Compute divides the whole sum by D
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

    private static QincoActivations[] CreateActivations(QincoModel model)
    {
        var activations = new QincoActivations[model.Steps];
        for (int m = 1; m < model.Steps; m++)
        {
            activations[m] = new QincoActivations(model.StepShape, keepLayers: true);
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
