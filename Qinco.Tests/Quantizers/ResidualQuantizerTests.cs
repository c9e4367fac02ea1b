using System;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.Quantizers;

public sealed class ResidualQuantizerTests
{
    [Test]
    public void Builder_NamesTheInvalidOption()
    {
        var steps = Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Residual(8).WithSteps(0).Build());
        Assert.That(steps!.ParamName, Is.EqualTo("Steps"));
        var bits = Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Residual(8).WithCodebookBits(17).Build());
        Assert.That(bits!.ParamName, Is.EqualTo("CodebookBits"));
        var beam = Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Residual(8).WithBeamWidth(0).Build());
        Assert.That(beam!.ParamName, Is.EqualTo("BeamWidth"));
        var dim = Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Residual(0).Build());
        Assert.That(dim!.ParamName, Is.EqualTo("Dimension"));
        var threads = Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Residual(8).WithThreads(0).Build());
        Assert.That(threads!.ParamName, Is.EqualTo("MaxDegreeOfParallelism"));
    }

    [Test]
    public void BeamSearch_IsNeverWorseThanGreedyOnTheSameCodebooks()
    {
        var train = SyntheticData.Generate(3000, 32, seed: 3);
        var test = SyntheticData.Generate(500, 32, seed: 4);
        var rq = Quantizer.Residual(32).WithSteps(6).WithCodebookBits(5).WithBeamWidth(1).WithSeed(5).Build();
        rq.Fit(train);
        double greedy = Mse(test, rq);
        foreach (int beam in new[] { 2, 4, 8 })
        {
            double withBeam = Mse(test, rq.WithBeamWidth(beam));
            Assert.That(withBeam, Is.LessThanOrEqualTo(greedy), $"beam {beam}");
        }
        Assert.That(Mse(test, rq.WithBeamWidth(8)), Is.LessThan(greedy * 0.99), "a beam of 8 finds clearly better codes");
    }

    [Test]
    public void WideBeamOnTinyCodebooks_GrowsThroughEveryWidth()
    {
        // K = 2 with beam 5: the beam grows 1 -> 2 -> 4 -> 5, exercising partially filled beams.
        var train = SyntheticData.Generate(400, 8, seed: 12);
        var rq = Quantizer.Residual(8).WithSteps(5).WithCodebookBits(1).WithBeamWidth(5).WithThreads(2).Build();
        rq.Fit(train);
        double wide = Mse(train, rq);
        double greedy = Mse(train, rq.WithBeamWidth(1));
        Assert.That(rq.CodeSize, Is.EqualTo(1));
        Assert.That(wide, Is.LessThanOrEqualTo(greedy));
    }

    [Test]
    public void Decode_IsTheSumOfTheChosenCodewords()
    {
        var train = SyntheticData.Generate(600, 8, seed: 9);
        var rq = Quantizer.Residual(8).WithSteps(3).WithCodebookBits(4).WithBeamWidth(2).Build();
        rq.Fit(train);
        byte[] codes = rq.Encode(train.Slice(0, 5)).Data;
        VectorSet decoded = rq.Decode(codes);
        Span<int> indices = stackalloc int[3];
        for (int i = 0; i < 5; i++)
        {
            CodePacking.Unpack(codes.AsSpan(i * rq.CodeSize, rq.CodeSize), rq.Layout, indices);
            for (int j = 0; j < 8; j++)
            {
                float expected = 0;
                for (int m = 0; m < 3; m++)
                {
                    expected += rq.GetCodebook(m)[indices[m] * 8 + j];
                }
                Assert.That(decoded[i][j], Is.EqualTo(expected).Within(1e-5f));
            }
        }
    }

    [TestCase(1, 32199.0)]
    [TestCase(5, 27481.0)]
    public void Sift8x8_MseIsWithinTwoPercentOfFaiss(int beam, double faissMse)
    {
        string path = TestData.RequireDataset("sift10k/sift10k_base.fvecs");
        VectorSet train = VectorFile.Read(path, new RowRange(0, 5000));
        VectorSet database = VectorFile.Read(path, new RowRange(5000, 10000));
        var rq = Quantizer.Residual(128).WithSteps(8).WithCodebookBits(8).WithBeamWidth(beam).WithThreads(2).Build();
        rq.Fit(train);
        double mse = Mse(database, rq);
        TestContext.Out.WriteLine($"SIFT RQ 8x8 beam {beam}: MSE {mse:F0} (Faiss {faissMse:F0})");
        Assert.That(mse, Is.LessThanOrEqualTo(faissMse * 1.02));
    }

    private static double Mse(VectorSet data, IQuantizer quantizer)
    {
        VectorSet decoded = quantizer.Decode(quantizer.Encode(data));
        double sum = 0;
        for (int i = 0; i < data.Data.Length; i++)
        {
            double diff = data.Data[i] - decoded.Data[i];
            sum += diff * diff;
        }
        return sum / data.Count;
    }
}
