using System.IO;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Tests.Interop;
using Qinco.Tests.IO;

namespace Qinco.Tests.Cli;

/// <summary><c>qinco import</c> and <c>qinco export</c>.</summary>
public sealed class ImportExportCliTests : TempFiles
{
    private static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void Import_writes_a_model_that_decodes_the_reference_codes_and_export_round_trips()
    {
        string model = PathOf("qinco1.qinco"), exported = PathOf("qinco1.safetensors"), reimported = PathOf("again.qinco");
        var import = Run("import", "--from", PyTorchFixtures.PathOf("qinco1.pt"), "--out", model);
        Assert.That(import.ExitCode, Is.EqualTo(0), import.Error);
        Assert.That(import.Out, Does.Contain("imported Qinco1").And.Contain(model));

        var export = Run("export", "--model", model, "--out", exported);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(export.Out, Does.Contain("15 tensors"));
        var again = Run("import", "--from", exported, "--out", reimported);
        Assert.That(again.ExitCode, Is.EqualTo(0), again.Error);

        (_, Matrix<long> codes, VectorSet expected) = PyTorchFixtures.Expected("qinco1");
        IQuantizer first = Quantizer.Load(model), second = Quantizer.Load(reimported);
        CodeSet packed = PyTorchFixtures.Pack(codes, first.Layout);
        Assert.Multiple(() =>
        {
            Assert.That(PyTorchFixtures.MaxRelativeError(first.Decode(packed).Data, expected.Data), Is.LessThanOrEqualTo(1e-5));
            Assert.That(second.Decode(packed).Data, Is.EqualTo(first.Decode(packed).Data));
        });
    }

    [Test]
    public void Refused_and_corrupt_files_exit_with_1_and_the_reason()
    {
        string garbage = PathOf("garbage.pt");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5]);
        var lowRank = Run("import", "--from", PyTorchFixtures.PathOf("qinco_lr.pt"), "--out", PathOf("x.qinco"));
        var corrupt = Run("import", "--from", garbage, "--out", PathOf("y.qinco"));
        var missing = Run("import", "--from", PathOf("missing.pt"), "--out", PathOf("z.qinco"));
        Assert.Multiple(() =>
        {
            Assert.That(lowRank.ExitCode, Is.EqualTo(1));
            Assert.That(lowRank.Error, Does.Contain("model_qinco.QINCoLR"));
            Assert.That(corrupt.ExitCode, Is.EqualTo(1));
            Assert.That(corrupt.Error, Does.Contain(garbage));
            Assert.That(missing.ExitCode, Is.EqualTo(1));
            Assert.That(File.Exists(PathOf("x.qinco")), Is.False);
        });
    }

    [Test]
    public void Export_of_an_rq_model_exits_with_1()
    {
        string model = PathOf("rq.qinco");
        IQuantizer rq = Quantizer.Residual(4).WithSteps(2).WithCodebookBits(2).Build();
        rq.Fit(SyntheticData.Generate(64, 4, seed: 1));
        rq.Save(model);
        var export = Run("export", "--model", model, "--out", PathOf("rq.safetensors"));
        Assert.That(export.ExitCode, Is.EqualTo(1));
        Assert.That(export.Error, Does.Contain("Only QINCo and IVF-QINCo"));
    }
}
