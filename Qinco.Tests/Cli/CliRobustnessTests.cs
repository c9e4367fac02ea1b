using System;
using System.IO;
using System.Threading;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Tests.IO;

namespace Qinco.Tests.Cli;

/// <summary>The command line's answers to interrupted runs, unwritable outputs, codes of another model and bad data: named, before any work.</summary>
public sealed class CliRobustnessTests : TempFiles
{
    private sealed record Outcome(int ExitCode, string Out, string Error);

    [Test]
    public void CodesOfAnotherModel_AreRefused_AndCodesWithoutARecordNeedTrust()
    {
        string data = WriteData(600);
        string first = Train(data, "first.qinco", seed: 1), second = Train(data, "second.qinco", seed: 2);
        string codes = PathOf("codes.npy");
        Assert.That(Run("encode", "--model", first, "--input", data, "--out", codes).ExitCode, Is.EqualTo(0));
        Assert.That(File.Exists(codes + ".model.json"));

        Outcome own = Run("decode", "--model", first, "--codes", codes, "--out", PathOf("a.fvecs"));
        Assert.That(own.ExitCode, Is.EqualTo(0), own.Error);

        Outcome other = Run("decode", "--model", second, "--codes", codes, "--out", PathOf("b.fvecs"));
        Assert.That(other.ExitCode, Is.EqualTo(1));
        Assert.That(other.Error, Does.Contain("written by another model").And.Contain("first.qinco").And.Contain("second.qinco"));
        Assert.That(File.Exists(PathOf("b.fvecs")), Is.False);

        File.Delete(codes + ".model.json");
        Outcome unrecorded = Run("decode", "--model", first, "--codes", codes, "--out", PathOf("c.fvecs"));
        Assert.That(unrecorded.ExitCode, Is.EqualTo(1));
        Assert.That(unrecorded.Error, Does.Contain("--trust-codes"));
        Assert.That(Run("decode", "--model", first, "--codes", codes, "--trust-codes", "--out", PathOf("c.fvecs")).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public void UnwritableOutputs_FailBeforeAnyWork_NamingThePathGiven()
    {
        string data = WriteData(600);
        string model = Train(data, "m.qinco", seed: 1);
        string missing = Path.Combine(Directory, "no-such-folder", "m.qinco");
        Outcome train = Run("train", "--method", "qinco", "--train", data, "--out", missing);
        Assert.That(train.ExitCode, Is.EqualTo(1));
        Assert.That(train.Error, Does.Contain(missing).And.Contain("does not exist"));
        Assert.That(train.Error, Does.Not.Contain("training "), "refused before training started");

        Outcome directory = Run("train", "--method", "rq", "--train", data, "--out", Directory);
        Assert.That(directory.Error, Does.Contain("is a directory"));

        Outcome extension = Run("encode", "--model", model, "--input", data, "--out", PathOf("c.bin"));
        Assert.That(extension.ExitCode, Is.EqualTo(1));
        Assert.That(extension.Error, Does.Contain("'.bin'"));
        Assert.That(File.Exists(PathOf("c.bin")), Is.False);

        Outcome modelIsDirectory = Run("encode", "--model", Directory, "--input", data, "--out", PathOf("c.npy"));
        Assert.That(modelIsDirectory.ExitCode, Is.EqualTo(1));
        Assert.That(modelIsDirectory.Error, Does.Contain("is a directory"));
    }

    [Test]
    public void NonFiniteValidationData_IsNamedByItsFile()
    {
        string data = WriteData(600);
        VectorSet bad = SyntheticData.Generate(50, 16, seed: 3);
        bad[7][2] = float.NaN;
        string val = PathOf("val-with-nan.fvecs");
        VectorFile.WriteFvecs(val, bad);
        Outcome outcome = Run("train", "--method", "qinco", "--train", data, "--val", val, "--steps", "2", "--codebook-bits", "4", "--out", PathOf("m.qinco"));
        Assert.That(outcome.ExitCode, Is.EqualTo(1));
        Assert.That(outcome.Error, Does.Contain("val-with-nan.fvecs").And.Contain("Vector 7, component 2"));
    }

    [Test]
    public void InterruptedTraining_SavesTheBestModelSoFar_SaysSo_AndExitsNonZero()
    {
        string data = WriteData(600);
        string model = PathOf("interrupted.qinco");
        using var cts = new CancellationTokenSource();
        using var stdout = new StringWriter();
        // Ctrl+C once the first epoch has ended (its progress line is printed at once).
        using var stderr = new CallbackWriter(line =>
        {
            if (line.Contains("batch 3/3", StringComparison.Ordinal))
            {
                cts.Cancel();
            }
        });
        int code = CliApp.Run(["train", "--method", "qinco", "--train", data, "--val", data, "--val-rows", "0:100", "--steps", "2", "--codebook-bits", "4",
            "--blocks", "1", "--hidden", "8", "--batch-size", "200", "--max-epochs", "50", "--workers", "1", "--threads", "1", "--out", model], stdout, stderr, cts.Token);
        Assert.That(code, Is.EqualTo(CliApp.Interrupted), stderr.ToString());
        Assert.That(stdout.ToString(), Does.StartWith("interrupted; saved the best model so far"));
        Assert.That(stderr.ToString(), Does.Contain("training stopped: it was interrupted (Ctrl+C) after 1 epochs; kept epoch 1"));
        Assert.That(Quantizer.Load(model).IsTrained);

        using var early = new CancellationTokenSource();
        early.Cancel();
        using var errors = new StringWriter();
        int before = CliApp.Run(["train", "--method", "qinco", "--train", data, "--steps", "2", "--codebook-bits", "4", "--out", PathOf("none.qinco")], new StringWriter(), errors, early.Token);
        Assert.That(before, Is.EqualTo(CliApp.Interrupted));
        Assert.That(File.Exists(PathOf("none.qinco")), Is.False);
    }

    private Outcome Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    private string WriteData(int count)
    {
        string path = PathOf("data.fvecs");
        VectorFile.WriteFvecs(path, SyntheticData.Generate(count, 16, seed: 1, distributionSeed: 5));
        return path;
    }

    private string Train(string data, string name, int seed)
    {
        string model = PathOf(name);
        Outcome train = Run("train", "--method", "rq", "--train", data, "--steps", "2", "--codebook-bits", "4", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        return model;
    }

    /// <summary>A writer that keeps the text and hands every completed line to a callback as it is written.</summary>
    private sealed class CallbackWriter(Action<string> onLine) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            onLine(value ?? string.Empty);
        }
    }
}
