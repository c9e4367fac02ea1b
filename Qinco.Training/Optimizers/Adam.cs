namespace Qinco.Training;

/// <summary>
/// Adam (Kingma &amp; Ba), numerically as torch.optim.Adam: optional L2 weight decay added to the gradient, bias
/// correction of both moments. QINCo1 uses it with lr 1e-4..1e-3, default betas, no weight decay.
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates Adam for <paramref name="parameters"/> (options default to PyTorch's defaults).</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">An option is out of range (named in the exception).</exception>
    public Adam(ParameterSet parameters, AdamOptions? options = null)
        : base(parameters, options)
    {
    }

    /// <inheritdoc />
    protected override bool DecoupledWeightDecay => false;
}

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
