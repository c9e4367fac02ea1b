using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Quantizers;

[TestFixture]
public sealed class QincoQuantizerContractTests : QuantizerContractTests
{
    protected override QuantizerKind Kind => QuantizerKind.Qinco;

    protected override IQuantizer Create(int steps, int bits, int seed) =>
        Quantizer.Qinco(Dimension).WithSteps(steps).WithCodebookBits(bits).WithResidualBlocks(1).WithHiddenSize(16)
            .WithSeed(seed).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(2).BatchSize(256).LearningRate(1e-3).Workers(2))
            .Build();
}
