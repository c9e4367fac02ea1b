using System.IO;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Tests.IO;
using Qinco.TorchSharp;

namespace Qinco.Tests.Cli;

/// <summary>
/// <c>qinco train --device</c> where no libtorch is loadable (this test host references none): the CLI starts and
/// fails with the cause and the fix, before reading data or writing a model. Training on a device is tested in
/// Qinco.TorchSharp.Tests, whose host has libtorch.
/// </summary>
public sealed class DeviceCliTests : TempFiles
{
    [Test]
    public void TrainOnADevice_WithoutLibtorch_FailsWithTheFix()
    {
        if (TorchRuntime.IsAvailable(out _))
        {
            Assert.Ignore("libtorch loads in this process (it is on the native library path), so the missing-runtime error cannot be shown.");
        }
        string data = Path.Combine(Directory, "data.fvecs"), model = Path.Combine(Directory, "m.qinco");
        VectorFile.WriteFvecs(data, SyntheticData.Generate(100, 8, seed: 1));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int code = CliApp.Run(["train", "--method", "qinco", "--train", data, "--device", "cpu", "--out", model], stdout, stderr);

        Assert.That(code, Is.EqualTo(CliApp.Failure), stderr.ToString());
        Assert.That(stderr.ToString(), Does.StartWith("error: --device cpu:").And.Contain("libtorch").And.Contain("LD_LIBRARY_PATH"));
        Assert.That(File.Exists(model), Is.False);
    }
}
