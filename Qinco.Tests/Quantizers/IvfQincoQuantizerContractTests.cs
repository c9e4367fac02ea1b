using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Quantizers;

[TestFixture]
public sealed class IvfQincoQuantizerContractTests : QuantizerContractTests
{
    protected override QuantizerKind Kind => QuantizerKind.IvfQinco;

    protected override IQuantizer Create(int steps, int bits, int seed) =>
        Quantizer.IvfQinco(Dimension).WithLists(8).WithSteps(steps).WithCodebookBits(bits).WithResidualBlocks(1).WithHiddenSize(16)
            .WithSeed(seed).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(2).BatchSize(256).LearningRate(1e-3).Workers(2))
            .Build();
}
