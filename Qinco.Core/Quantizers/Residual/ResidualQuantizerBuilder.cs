namespace Qinco.Core;

/// <summary>Fluent builder of <see cref="ResidualQuantizer"/>: <c>Quantizer.Residual(d).WithSteps(8).WithBeamWidth(5).Build()</c>.</summary>
public sealed class ResidualQuantizerBuilder : QuantizerBuilder<ResidualQuantizerBuilder, ResidualQuantizerOptions, ResidualQuantizer>
{
    internal ResidualQuantizerBuilder(ResidualQuantizerOptions options)
        : base(options)
    {
    }

    /// <summary>Beam width of encoding and training (default 5; 1 is greedy).</summary>
    public ResidualQuantizerBuilder WithBeamWidth(int beamWidth) => Set(Options with { BeamWidth = beamWidth });

    /// <summary>Lloyd iterations per k-means run (default 10).</summary>
    public ResidualQuantizerBuilder WithKMeansIterations(int iterations) => Set(Options with { KMeansIterations = iterations });

    /// <summary>Whether k-means runs on progressively more PCA dimensions (default true).</summary>
    public ResidualQuantizerBuilder WithProgressiveDimensions(bool enabled) => Set(Options with { ProgressiveDimensions = enabled });

    /// <inheritdoc/>
    public override ResidualQuantizer Build() => new(Options);
}
