using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Quantizers;

[TestFixture]
public sealed class ResidualQuantizerContractTests : QuantizerContractTests
{
    protected override QuantizerKind Kind => QuantizerKind.Residual;

    protected override IQuantizer Create(int steps, int bits, int seed) =>
        Quantizer.Residual(Dimension).WithSteps(steps).WithCodebookBits(bits).WithBeamWidth(3).WithSeed(seed).WithThreads(2).Build();
}
