using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Quantizers;

/// <summary>The quantizer contract for QINCo2 (projections De = 8 ≠ D, pre-selection codebooks, mean/std normalisation).</summary>
[TestFixture]
public sealed class Qinco2QuantizerContractTests : QuantizerContractTests
{
    protected override QuantizerKind Kind => QuantizerKind.Qinco;

    protected override bool OriginIsTheTrainingMean => true;

    protected override IQuantizer Create(int steps, int bits, int seed) =>
        Quantizer.Qinco2(Dimension).WithEmbeddingSize(8).WithResidualBlocks(1).WithHiddenSize(16).WithEncoding(4, 8)
            .WithSteps(steps).WithCodebookBits(bits).WithSeed(seed).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(2).BatchSize(256).LearningRate(1e-3).Workers(2))
            .Build();
}

/// <summary>The quantizer contract for IVF-QINCo2 (QINCo2 steps behind 8 inverted lists, no projections).</summary>
[TestFixture]
public sealed class IvfQinco2QuantizerContractTests : QuantizerContractTests
{
    protected override QuantizerKind Kind => QuantizerKind.IvfQinco;

    protected override IQuantizer Create(int steps, int bits, int seed) =>
        Quantizer.IvfQinco(Dimension).WithQinco2().WithEmbeddingSize(null).WithLists(8).WithResidualBlocks(1).WithHiddenSize(16).WithEncoding(4, 8)
            .WithSteps(steps).WithCodebookBits(bits).WithSeed(seed).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(2).BatchSize(256).LearningRate(1e-3).Workers(2))
            .Build();
}
