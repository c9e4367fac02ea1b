namespace Qinco.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter), numerically as torch.optim.AdamW: the weights are first multiplied by
/// <c>1 − lr·WeightDecay</c>, then the Adam update is applied. QINCo2 uses lr 8e-4, weight decay 0.1 and
/// gradient clipping by value 0.1.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>Creates AdamW for <paramref name="parameters"/>. Note that <see cref="AdamOptions.WeightDecay"/>
    /// defaults to 0 here; torch's AdamW default is 0.01.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">An option is out of range (named in the exception).</exception>
    public AdamW(ParameterSet parameters, AdamOptions? options = null)
        : base(parameters, options)
    {
    }

    /// <inheritdoc />
    protected override bool DecoupledWeightDecay => true;
}
