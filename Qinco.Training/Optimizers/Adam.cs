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
