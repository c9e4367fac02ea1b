using System;
using System.Numerics;

namespace Qinco.Training;

/// <summary>
/// Base class of the Adam family: holds the moment buffers of one <see cref="ParameterSet"/> and applies one
/// update per <see cref="Step(double)"/> from the gradients currently stored in the parameters.
/// </summary>
/// <remarks>
/// The arithmetic mirrors PyTorch's single-tensor Adam: bias corrections are computed in double precision,
/// converted to float, and every element-wise operation is done in float32 in PyTorch's operation order
/// (<c>m ← m + (1−β₁)(g − m)</c>, <c>v ← β₂v + (1−β₂)g·g</c>, <c>θ ← θ − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)</c>).
/// The vectorised and scalar paths perform the same IEEE operations, so the result does not depend on the SIMD
/// width. Not thread-safe.
/// </remarks>
public abstract class Optimizer
{
    private readonly float[][] _firstMoments;
    private readonly float[][] _secondMoments;

    /// <summary>Creates the optimiser for <paramref name="parameters"/> with zeroed state.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (named in the exception).</exception>
    private protected Optimizer(ParameterSet parameters, AdamOptions? options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Options = options ?? new AdamOptions();
        Options.Validate();
        Parameters = parameters;
        _firstMoments = new float[parameters.Count][];
        _secondMoments = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            _firstMoments[i] = new float[parameters[i].Length];
            _secondMoments[i] = new float[parameters[i].Length];
        }
    }

    /// <summary>The parameters this optimiser updates.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The hyper-parameters.</summary>
    public AdamOptions Options { get; }

    /// <summary>Number of steps since creation or the last <see cref="Reset"/>.</summary>
    public long StepCount { get; private set; }

    /// <summary>True when weight decay is decoupled (AdamW), false when it is L2 added to the gradient (Adam).</summary>
    protected abstract bool DecoupledWeightDecay { get; }

    /// <summary>
    /// Applies one update with <paramref name="learningRate"/> from the current gradients. When
    /// <see cref="AdamOptions.GradientClipValue"/> is set the gradients are clamped in place first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative or not finite.</exception>
    public void Step(double learningRate)
    {
        Require.NonNegativeFinite(learningRate);
        StepCount++;
        double beta1 = Options.Beta1, beta2 = Options.Beta2;
        double biasCorrection1 = 1 - Math.Pow(beta1, StepCount);
        double biasCorrection2 = 1 - Math.Pow(beta2, StepCount);
        var k = new AdamKernel
        {
            OneMinusBeta1 = (float)(1 - beta1),
            Beta2 = (float)beta2,
            OneMinusBeta2 = (float)(1 - beta2),
            NegativeStepSize = (float)(-(learningRate / biasCorrection1)),
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2),
            Epsilon = (float)Options.Epsilon,
            L2 = DecoupledWeightDecay ? 0f : (float)Options.WeightDecay,
            DecayFactor = DecoupledWeightDecay ? (float)(1 - learningRate * Options.WeightDecay) : 1f,
            Clip = Options.GradientClipValue is double c ? (float)c : float.PositiveInfinity,
        };
        for (int i = 0; i < Parameters.Count; i++)
        {
            Parameter p = Parameters[i];
            k.Update(p.Value, p.Gradient, _firstMoments[i], _secondMoments[i]);
        }
    }

    /// <summary>Zeroes the moments and the step count, as if the optimiser had just been created (QINCo1 re-creates Adam every epoch).</summary>
    public void Reset()
    {
        StepCount = 0;
        foreach (float[] m in _firstMoments)
        {
            Array.Clear(m);
        }
        foreach (float[] v in _secondMoments)
        {
            Array.Clear(v);
        }
    }

    /// <summary>Returns a deep copy of the state.</summary>
    public OptimizerState ExportState()
    {
        var first = new float[_firstMoments.Length][];
        var second = new float[_secondMoments.Length][];
        for (int i = 0; i < first.Length; i++)
        {
            first[i] = (float[])_firstMoments[i].Clone();
            second[i] = (float[])_secondMoments[i].Clone();
        }
        return new OptimizerState(StepCount, first, second);
    }

    /// <summary>Replaces the state by a copy of <paramref name="state"/>.</summary>
    /// <exception cref="ArgumentException">The state does not match the parameter count or shapes.</exception>
    public void ImportState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.FirstMoments.Count != _firstMoments.Length || state.SecondMoments.Count != _secondMoments.Length)
        {
            throw new ArgumentException($"State holds {state.FirstMoments.Count} tensors, the optimiser {_firstMoments.Length}.", nameof(state));
        }
        for (int i = 0; i < _firstMoments.Length; i++)
        {
            if (state.FirstMoments[i].Length != _firstMoments[i].Length || state.SecondMoments[i].Length != _secondMoments[i].Length)
            {
                throw new ArgumentException($"State tensor {i} ('{Parameters[i].Name}') has the wrong length.", nameof(state));
            }
        }
        for (int i = 0; i < _firstMoments.Length; i++)
        {
            state.FirstMoments[i].AsSpan().CopyTo(_firstMoments[i]);
            state.SecondMoments[i].AsSpan().CopyTo(_secondMoments[i]);
        }
        StepCount = state.StepCount;
    }

    private struct AdamKernel
    {
        public float OneMinusBeta1;
        public float Beta2;
        public float OneMinusBeta2;
        public float NegativeStepSize;
        public float BiasCorrection2Sqrt;
        public float Epsilon;
        public float L2;
        public float DecayFactor;
        public float Clip;

        public readonly void Update(Span<float> theta, Span<float> grad, Span<float> m, Span<float> v)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && theta.Length >= Vector<float>.Count)
            {
                var clipHi = new Vector<float>(Clip);
                var clipLo = new Vector<float>(-Clip);
                var c1 = new Vector<float>(OneMinusBeta1);
                var b2 = new Vector<float>(Beta2);
                var c2 = new Vector<float>(OneMinusBeta2);
                var negStep = new Vector<float>(NegativeStepSize);
                var bc2 = new Vector<float>(BiasCorrection2Sqrt);
                var eps = new Vector<float>(Epsilon);
                var l2 = new Vector<float>(L2);
                var decay = new Vector<float>(DecayFactor);
                bool clip = !float.IsPositiveInfinity(Clip);
                bool useL2 = L2 != 0f;
                bool useDecay = DecayFactor != 1f;
                int last = theta.Length - Vector<float>.Count;
                for (; i <= last; i += Vector<float>.Count)
                {
                    var g = new Vector<float>(grad.Slice(i));
                    if (clip)
                    {
                        g = Vector.Min(Vector.Max(g, clipLo), clipHi);
                        g.CopyTo(grad.Slice(i));
                    }
                    var p = new Vector<float>(theta.Slice(i));
                    if (useL2)
                    {
                        g += l2 * p;
                    }
                    if (useDecay)
                    {
                        p *= decay;
                    }
                    var mi = new Vector<float>(m.Slice(i));
                    mi += c1 * (g - mi);
                    var vi = new Vector<float>(v.Slice(i));
                    vi = (vi * b2) + (c2 * g * g);
                    var denom = (Vector.SquareRoot(vi) / bc2) + eps;
                    p += negStep * mi / denom;
                    mi.CopyTo(m.Slice(i));
                    vi.CopyTo(v.Slice(i));
                    p.CopyTo(theta.Slice(i));
                }
            }
            for (; i < theta.Length; i++)
            {
                float g = grad[i];
                if (!float.IsPositiveInfinity(Clip))
                {
                    g = MathF.Min(MathF.Max(g, -Clip), Clip);
                    grad[i] = g;
                }
                float p = theta[i];
                if (L2 != 0f)
                {
                    g += L2 * p;
                }
                if (DecayFactor != 1f)
                {
                    p *= DecayFactor;
                }
                float mi = m[i] + (OneMinusBeta1 * (g - m[i]));
                float vi = (v[i] * Beta2) + (OneMinusBeta2 * g * g);
                float denom = (MathF.Sqrt(vi) / BiasCorrection2Sqrt) + Epsilon;
                m[i] = mi;
                v[i] = vi;
                theta[i] = p + (NegativeStepSize * mi / denom);
            }
        }
    }
}
