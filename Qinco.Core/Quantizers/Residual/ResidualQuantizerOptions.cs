namespace Qinco.Core;

/// <summary>Settings of a <see cref="ResidualQuantizer"/>. Create through <see cref="Quantizer.Residual(int)"/> or directly.</summary>
public sealed record ResidualQuantizerOptions : QuantizerOptions
{
    /// <summary>Beam width B of the encoder and of training, 1..<see cref="QuantizerLimits.MaxBeamWidth"/> (default 5, as Faiss' <c>max_beam_size</c>); 1 is greedy.</summary>
    public int BeamWidth { get; init; } = 5;

    /// <summary>Lloyd iterations per k-means run (default 10, as Faiss' progressive-dimension clustering).</summary>
    public int KMeansIterations { get; init; } = 10;

    /// <summary>Whether each step's k-means runs progressively on growing PCA dimensions (default true, as Faiss' <c>Train_progressive_dim</c>).</summary>
    public bool ProgressiveDimensions { get; init; } = true;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        new EncoderSearch(BeamWidth).Validate();
        QuantizerLimits.Require(KMeansIterations >= 1, nameof(KMeansIterations), KMeansIterations, "must be at least 1");
    }
}
