using System;
using System.Globalization;
using System.Threading;
using Microsoft.Extensions.Logging;
using Qinco.Core.Serialization;

namespace Qinco.Core;

/// <summary>
/// QINCo (Huijben et al., ICML 2024): residual quantization whose codebook at every step is predicted by a small
/// neural network from the reconstruction so far. Step 0 is a plain codebook; each later step m maps a base codeword
/// c and the current reconstruction x̂ to <c>f_m(c, x̂) = z_L</c> with <c>z_0 = c + W·[c; x̂] + b</c> and L residual
/// blocks <c>z ← z + V·ReLU(U·z)</c> (ALGORITHM.md §1).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>code size</term><description><c>ceil(M * bits / 8)</c> bytes per vector</description></item>
/// <item><term>training</term><description>required: RQ initialisation, then Adam with early stopping on the validation MSE (<see cref="QincoOptions.Training"/>)</description></item>
/// <item><term>encoding</term><description><see cref="QincoOptions.Search"/>: by default a beam of 5 with 16 pre-selected candidates per beam (QINCo2's search, §5.3–5.4); <see cref="EncoderSearch.Greedy"/> is QINCo1's exhaustive greedy search (§1.5)</description></item>
/// <item><term>determinism</term><description>same seed, options, worker count and kernel variant give bit-identical models and codes</description></item>
/// <item><term>thread safety</term><description><c>Encode</c>/<c>Decode</c> are safe from many threads once trained</description></item>
/// <item><term>prefix decoding</term><description>every prefix of m steps is trained to be a good m-step code</description></item>
/// </list>
/// Data is divided by a scale s (the largest value of the training set) inside the model, as the reference does.
/// </remarks>
public sealed class QincoQuantizer : QincoQuantizerBase
{
    /// <summary>Creates an untrained quantizer; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the option is named).</exception>
    public QincoQuantizer(QincoOptions options)
        : base(options, listBits: 0)
    {
    }

    /// <summary>The settings this quantizer was built with.</summary>
    public QincoOptions Options => Settings;

    /// <inheritdoc/>
    public override QuantizerKind Kind => QuantizerKind.Qinco;

    /// <inheritdoc/>
    public override string Description => string.Create(CultureInfo.InvariantCulture,
        $"{Name(Options)} {Options.Search} (M={Steps}, K={CodebookSize})");

    /// <summary>"QINCo L=2 h=256", or "QINCo2 L=2 De=128 Dh=256".</summary>
    internal static string Name(QincoOptions options) => options.Version == QincoVersion.Qinco2
        ? string.Create(CultureInfo.InvariantCulture, $"QINCo2 L={options.ResidualBlocks} De={options.StepShape.Embedding} Dh={options.HiddenSize}")
        : string.Create(CultureInfo.InvariantCulture, $"QINCo L={options.ResidualBlocks} h={options.HiddenSize}");

    /// <summary>A quantizer sharing this one's trained network but encoding with another beam width and candidate count (codes stay compatible).</summary>
    /// <param name="beamWidth">Beams kept between steps.</param>
    /// <param name="candidates">Codewords per beam pre-selected for the network; null keeps the current count, 0 evaluates all K.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (named).</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public QincoQuantizer WithEncoding(int beamWidth, int? candidates = null) =>
        (QincoQuantizer)WithSearch(new EncoderSearch(beamWidth, candidates ?? Options.Search.Candidates));

    /// <summary>RQ initialisation on the raw training set (§1.7; a sample beyond 500,000 rows), then the layers.</summary>
    private protected override (QincoModel Model, int[]? Lists) Initialize(IVectorSource train, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        (QincoModel model, _) = InitializeForResume(train, progress, cancellationToken);
        InitializeCodebooksFromRq(model, InitializationSample(train).Rows, firstStep: 0, progress, cancellationToken);
        model.InitializeLayers(Options.ZeroInitialization, Options.Seed);
        return (model, null);
    }

    private protected override (QincoModel Model, int[]? Lists) InitializeForResume(IVectorSource train, IProgress<FitProgress>? progress, CancellationToken cancellationToken) =>
        (CreateModel(train, Steps), null);

    private protected override QincoQuantizerBase WithOptions(QincoOptions options) => new QincoQuantizer(options);

    internal static QincoQuantizer Read(ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory)
    {
        var quantizer = new QincoQuantizer(ReadSettings(new QincoOptions(), file, header, parallelism, loggerFactory));
        quantizer.ReadModel(file, header.Steps);
        return quantizer;
    }
}
