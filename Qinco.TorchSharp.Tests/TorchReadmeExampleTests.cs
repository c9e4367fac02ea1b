using System.IO;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Tests;

namespace Qinco.TorchSharp.Tests;

/// <summary>The README's GPU-training example (on two CPU replicas), compiled and run here; a test checks the README holds exactly this code.</summary>
public sealed class TorchReadmeExampleTests
{
    [Test]
    public void Example_Runs()
    {
        TorchSetup.RequireRuntime();

        // README example begins
        VectorSet train = SyntheticData.Generate(count: 1000, dimension: 32, seed: 1);
        VectorSet validation = SyntheticData.Generate(count: 200, dimension: 32, seed: 2);
        string devices = "cpu,cpu";                          // one replica per device, e.g. "cuda:0,cuda:1" or "cuda" (every GPU)

        QincoQuantizer qinco = Quantizer.Qinco(dimension: 32).WithSteps(4).WithCodebookBits(6).WithResidualBlocks(1).WithHiddenSize(32)
            .WithTraining(t => t.Devices(devices).MaxEpochs(1))
            .Build();
        qinco.Fit(train, validation);                        // TorchRuntimeException (with the fix) if libtorch or a device is missing

        using var encoder = new TorchQincoEncoder(qinco, device: "cpu", batchSize: 4096);
        CodeSet codes = encoder.Encode(validation);          // qinco.Encode(validation)'s codes, up to float ties
        // README example ends

        Assert.That(qinco.LastTraining!.EpochsCompleted, Is.EqualTo(1));
        Assert.That(codes.Data, Is.EqualTo(qinco.Encode(validation).Data));
    }

    [Test]
    public void Readme_ShowsThisExample() => ReadmeBlocks.AssertShows("torchsharp", Path.Combine("Qinco.TorchSharp.Tests", "TorchReadmeExampleTests.cs"));
}
