using System;

namespace Qinco.Training;

/// <summary>Hyper-parameters shared by <see cref="Adam"/> and <see cref="AdamW"/> (the learning rate is passed per step).</summary>
public sealed class AdamOptions
{
    /// <summary>Decay of the first-moment estimate (default: 0.9), as in torch.optim.Adam.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Decay of the second-moment estimate (default: 0.999), as in torch.optim.Adam.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Term added to the bias-corrected root of the second moment (default: 1e-8), as in torch.optim.Adam.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>
    /// Weight decay (default: 0). For <see cref="Adam"/> it is L2 regularisation added to the gradient
    /// (<c>g += WeightDecay·θ</c>, torch.optim.Adam); for <see cref="AdamW"/> it is decoupled
    /// (<c>θ *= 1 − lr·WeightDecay</c>, torch.optim.AdamW, whose own default is 0.01; QINCo2 uses 0.1).
    /// </summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// When set, every gradient element is clamped in place to [−value, +value] before the update, like
    /// <c>torch.nn.utils.clip_grad_value_</c> (default: null = no clipping; QINCo2 uses 0.1).
    /// </summary>
    public double? GradientClipValue { get; init; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the exception names it.</exception>
    public void Validate()
    {
        Require.That(Beta1 >= 0 && Beta1 < 1, Beta1, "Must be in [0, 1).");
        Require.That(Beta2 >= 0 && Beta2 < 1, Beta2, "Must be in [0, 1).");
        Require.PositiveFinite(Epsilon);
        Require.NonNegativeFinite(WeightDecay);
        if (GradientClipValue is double clip && (!(clip > 0) || !double.IsFinite(clip)))
        {
            throw new ArgumentOutOfRangeException(nameof(GradientClipValue), clip, "Must be positive and finite, or null.");
        }
    }
}
