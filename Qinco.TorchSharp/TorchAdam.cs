using System;
using System.Collections.Generic;
using Qinco.Training;
using Parameter = TorchSharp.Modules.Parameter;
using OptimizerState = Qinco.Training.OptimizerState;
using static TorchSharp.torch;

namespace Qinco.TorchSharp;

/// <summary>
/// The Training package's Adam/AdamW step (<see cref="Optimizer"/>) on device tensors, one element-wise operation at a
/// time in the same order and float32 precision: clamp, L2 or decoupled decay, <c>m ← m + (1−β₁)(g − m)</c>,
/// <c>v ← β₂v + (1−β₂)g·g</c>, <c>θ ← θ + (−lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)</c>, bias corrections in double. From
/// the same parameters and gradients, replicas on the same kind of device compute the same values (element-wise
/// kernels do not depend on the tensor's placement); the managed optimiser's agree to a few float ulps (libtorch's
/// kernels may contract a multiply and an add).
/// </summary>
internal sealed class TorchAdam : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _first;
    private readonly Tensor[] _second;
    private readonly TrainingOptions _options;

    public TorchAdam(Parameter[] parameters, TrainingOptions options)
    {
        _parameters = parameters;
        _options = options;
        _first = Array.ConvertAll(parameters, p => zeros_like(p).detach());
        _second = Array.ConvertAll(parameters, p => zeros_like(p).detach());
    }

    public long StepCount { get; private set; }

    public void Step(double learningRate)
    {
        StepCount++;
        double beta1 = _options.Beta1, beta2 = _options.Beta2;
        bool decoupled = _options.Optimizer == OptimizerKind.AdamW;
        float oneMinusBeta1 = (float)(1 - beta1), beta2f = (float)beta2, oneMinusBeta2 = (float)(1 - beta2);
        float negativeStep = (float)(-(learningRate / (1 - Math.Pow(beta1, StepCount))));
        float correction2 = (float)Math.Sqrt(1 - Math.Pow(beta2, StepCount));
        float epsilon = (float)_options.Epsilon;
        float l2 = decoupled ? 0f : (float)_options.WeightDecay;
        float decay = decoupled ? (float)(1 - learningRate * _options.WeightDecay) : 1f;
        float? clip = _options.GradientClipValue is double c ? (float)c : null;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _parameters.Length; i++)
        {
            Tensor p = _parameters[i];
            Tensor g = p.grad ?? throw new InvalidOperationException($"Parameter {i} has no gradient: Step before ComputeLossAndGradients.");
            if (clip is float bound)
            {
                g.clamp_(-bound, bound);
            }
            if (l2 != 0f)
            {
                g = g + (p * l2);
            }
            if (decay != 1f)
            {
                p.mul_(decay);
            }
            Tensor m = _first[i], v = _second[i];
            m.add_((g - m).mul_(oneMinusBeta1));
            v.mul_(beta2f).add_((g * oneMinusBeta2).mul_(g));
            Tensor denominator = v.sqrt().div_(correction2).add_(epsilon);
            p.add_((m * negativeStep).div_(denominator));
        }
    }

    public void Reset()
    {
        StepCount = 0;
        using var noGrad = no_grad();
        foreach (Tensor t in _first)
        {
            t.zero_();
        }
        foreach (Tensor t in _second)
        {
            t.zero_();
        }
    }

    public OptimizerState Export()
    {
        var first = new float[_first.Length][];
        var second = new float[_second.Length][];
        for (int i = 0; i < first.Length; i++)
        {
            first[i] = new float[_first[i].numel()];
            second[i] = new float[_second[i].numel()];
            TorchHost.Download(_first[i], first[i]);
            TorchHost.Download(_second[i], second[i]);
        }
        return new OptimizerState(StepCount, first, second);
    }

    public void Import(OptimizerState state, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.FirstMoments.Count != _first.Length || state.SecondMoments.Count != _second.Length)
        {
            throw new ArgumentException($"State holds {state.FirstMoments.Count} tensors, the optimiser {_first.Length}.", nameof(state));
        }
        for (int i = 0; i < _first.Length; i++)
        {
            if (state.FirstMoments[i].Length != _first[i].numel() || state.SecondMoments[i].Length != _second[i].numel())
            {
                throw new ArgumentException($"State tensor {i} ('{names[i]}') has the wrong length.", nameof(state));
            }
        }
        for (int i = 0; i < _first.Length; i++)
        {
            TorchHost.Upload(state.FirstMoments[i], _first[i]);
            TorchHost.Upload(state.SecondMoments[i], _second[i]);
        }
        StepCount = state.StepCount;
    }

    public void Dispose()
    {
        foreach (Tensor t in _first)
        {
            t.Dispose();
        }
        foreach (Tensor t in _second)
        {
            t.Dispose();
        }
    }
}
