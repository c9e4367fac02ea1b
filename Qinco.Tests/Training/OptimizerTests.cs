using System;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class OptimizerTests
{
    private static readonly float[][] s_grads = [[0.1f, -0.2f, 0.3f], [0.2f, 0.1f, -0.3f], [-0.05f, 0.4f, 0f]];

    private static (ParameterSet Set, Parameter P) Tiny()
    {
        var set = new ParameterSet();
        Parameter p = set.Add(new Parameter("w", [3], [1f, -2f, 0.5f]));
        return (set, p);
    }

    /// <summary>Reference Adam/AdamW in double with the textbook (= PyTorch) formulas.</summary>
    private static double[] Reference(double lr, double wd, bool decoupled, double? clip, int steps)
    {
        double[] th = [1, -2, 0.5], m = new double[3], v = new double[3];
        for (int t = 1; t <= steps; t++)
        {
            for (int i = 0; i < 3; i++)
            {
                double g = s_grads[t - 1][i];
                if (clip is double c)
                {
                    g = Math.Clamp(g, -c, c);
                }
                if (decoupled)
                {
                    th[i] *= 1 - (lr * wd);
                }
                else
                {
                    g += wd * th[i];
                }
                m[i] = (0.9 * m[i]) + (0.1 * g);
                v[i] = (0.999 * v[i]) + (0.001 * g * g);
                double mh = m[i] / (1 - Math.Pow(0.9, t));
                double vh = v[i] / (1 - Math.Pow(0.999, t));
                th[i] -= lr * mh / (Math.Sqrt(vh) + 1e-8);
            }
        }
        return th;
    }

    private static void Run(Optimizer opt, Parameter p, double lr, int steps)
    {
        for (int t = 0; t < steps; t++)
        {
            s_grads[t].AsSpan().CopyTo(p.Gradient);
            opt.Step(lr);
        }
    }

    [Test]
    public void Adam_MatchesHandComputedPyTorchValues()
    {
        (ParameterSet set, Parameter p) = Tiny();
        var adam = new Adam(set);
        float[][] expected =
        [
            [0.990000001f, -1.990000001f, 0.490000000f],
            [0.980348181f, -1.987336630f, 0.490526316f],
            [0.974462114f, -1.991909948f, 0.490933160f],
        ];
        for (int t = 0; t < 3; t++)
        {
            s_grads[t].AsSpan().CopyTo(p.Gradient);
            adam.Step(0.01);
            Assert.That(p.Value, Is.EqualTo(expected[t]).Within(2e-6), $"step {t + 1}");
        }
        Assert.That(adam.StepCount, Is.EqualTo(3));
    }

    [TestCase(false, 0.0, null)]
    [TestCase(false, 0.1, null)]
    [TestCase(true, 0.1, null)]
    [TestCase(true, 0.1, 0.15)]
    [TestCase(false, 0.0, 0.15)]
    public void AdamFamily_MatchesReferenceFormula(bool decoupled, double wd, double? clip)
    {
        (ParameterSet set, Parameter p) = Tiny();
        var options = new AdamOptions { WeightDecay = wd, GradientClipValue = clip };
        Optimizer opt = decoupled ? new AdamW(set, options) : new Adam(set, options);
        Run(opt, p, 0.01, 3);
        double[] expected = Reference(0.01, wd, decoupled, clip, 3);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(p.Value[i], Is.EqualTo(expected[i]).Within(2e-6 * Math.Max(1, Math.Abs(expected[i]))), $"element {i}");
        }
    }

    [Test]
    public void AdamW_DecaysBeforeUpdate_FirstStepValue()
    {
        // θ1 = θ0·(1 − lr·wd) − lr·g/(|g| + ε): for θ0 = 1, g = 0.1, lr = 0.01, wd = 0.1 → 0.999 − 0.01.
        (ParameterSet set, Parameter p) = Tiny();
        var opt = new AdamW(set, new AdamOptions { WeightDecay = 0.1 });
        Run(opt, p, 0.01, 1);
        Assert.That(p.Value[0], Is.EqualTo(0.989f).Within(1e-6));
        Assert.That(p.Value[1], Is.EqualTo((-2f * 0.999f) + 0.01f).Within(1e-6));
    }

    [Test]
    public void Clipping_ClampsGradientsInPlace()
    {
        (ParameterSet set, Parameter p) = Tiny();
        var opt = new Adam(set, new AdamOptions { GradientClipValue = 0.15 });
        s_grads[0].AsSpan().CopyTo(p.Gradient);
        opt.Step(0.01);
        Assert.That(p.Gradient, Is.EqualTo(new[] { 0.1f, -0.15f, 0.15f }));
    }

    [Test]
    public void Reset_MakesNextStepAFirstStep()
    {
        (ParameterSet set, Parameter p) = Tiny();
        var opt = new Adam(set);
        Run(opt, p, 0.01, 2);
        opt.Reset();
        Assert.That(opt.StepCount, Is.Zero);
        float before = p.Value[0];
        p.Gradient[0] = 0.3f;
        p.Gradient[1] = p.Gradient[2] = 0f;
        opt.Step(0.01);
        Assert.That(p.Value[0], Is.EqualTo(before - 0.01f).Within(1e-6));
    }

    [Test]
    public void ExportImport_ContinuesIdentically()
    {
        (ParameterSet setA, Parameter a) = Tiny();
        (ParameterSet setB, Parameter b) = Tiny();
        var optA = new AdamW(setA, new AdamOptions { WeightDecay = 0.1 });
        var optB = new AdamW(setB, new AdamOptions { WeightDecay = 0.1 });
        Run(optA, a, 0.01, 2);
        OptimizerState state = optA.ExportState();
        state.FirstMoments[0][0] += 0; // a copy: mutating it must not affect optA
        a.Value.AsSpan().CopyTo(b.Value);
        optB.ImportState(state);
        Assert.That(optB.StepCount, Is.EqualTo(2));
        s_grads[2].AsSpan().CopyTo(a.Gradient);
        s_grads[2].AsSpan().CopyTo(b.Gradient);
        optA.Step(0.01);
        optB.Step(0.01);
        Assert.That(b.Value, Is.EqualTo(a.Value));
    }

    [Test]
    public void VectorAndScalarPaths_AreBitIdentical()
    {
        var rng = new Random(42);
        const int n = 67; // several vectors plus a tail at every width
        var big = new ParameterSet();
        Parameter pb = big.Add("big", n);
        var small = new ParameterSet();
        var singles = new Parameter[n];
        for (int i = 0; i < n; i++)
        {
            pb.Value[i] = (float)(rng.NextDouble() - 0.5);
            singles[i] = small.Add($"s{i}", 1);
            singles[i].Value[0] = pb.Value[i];
        }
        var options = new AdamOptions { WeightDecay = 0.05, GradientClipValue = 0.3 };
        var ob = new AdamW(big, options);
        var os = new AdamW(small, options);
        for (int step = 0; step < 4; step++)
        {
            for (int i = 0; i < n; i++)
            {
                pb.Gradient[i] = singles[i].Gradient[0] = (float)(rng.NextDouble() - 0.5);
            }
            ob.Step(0.003);
            os.Step(0.003);
        }
        for (int i = 0; i < n; i++)
        {
            Assert.That(singles[i].Value[0], Is.EqualTo(pb.Value[i]), $"element {i}");
        }
    }

    [TestCase("Beta1")]
    [TestCase("Beta2")]
    [TestCase("Epsilon")]
    [TestCase("WeightDecay")]
    [TestCase("GradientClipValue")]
    public void Options_OutOfRange_NameTheOption(string name)
    {
        AdamOptions o = name switch
        {
            "Beta1" => new AdamOptions { Beta1 = 1 },
            "Beta2" => new AdamOptions { Beta2 = -0.1 },
            "Epsilon" => new AdamOptions { Epsilon = 0 },
            "WeightDecay" => new AdamOptions { WeightDecay = double.NaN },
            _ => new AdamOptions { GradientClipValue = 0 },
        };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(new ParameterSet(), o));
        Assert.That(ex!.ParamName, Is.EqualTo(name));
    }

    [Test]
    public void Step_RejectsNegativeLearningRate()
    {
        (ParameterSet set, _) = Tiny();
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(set).Step(-1));
    }
}
