using System;
using System.IO;
using System.Linq;
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
    public void CodesChangedAfterEncoding_AreRefused_NamingBothCounts()
    {
        (string model, string codes) = TrainAndEncode();
        VectorFile.WriteNpy(codes, VectorFile.ReadByteMatrix(codes).Slice(0, 250));

        Outcome cut = Run("decode", "--model", model, "--codes", codes, "--out", PathOf("d.fvecs"));
        Assert.That(cut.ExitCode, Is.EqualTo(1));
        Assert.That(cut.Error, Does.Contain("holds 250 codes").And.Contain("wrote 600"));
        Assert.That(File.Exists(PathOf("d.fvecs")), Is.False);
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

    /// <summary>Every command that writes a file, with the arguments that make it write <c>{0}</c>; its inputs exist, so only the output can fail.</summary>
    private string[][] WritingCommands(string data, string model, string index) =>
    [
        ["index", "centroids", "--train", data, "--lists", "4", "--out", "{0}"],
        ["index", "build", "--model", model, "--base", data, "--out", "{0}"],
        ["index", "add", "--index", index, "--base", data, "--out", "{0}"],
        ["search", "--index", index, "--queries", data, "--k", "5", "--out", "{0}"],
        ["import", "--from", data, "--out", "{0}"],
        ["export", "--model", model, "--out", "{0}"],
    ];

    [Test]
    public void EveryWritingCommand_RefusesAMissingFolderOrADirectory_BeforeAnyWork_NamingThePathGiven()
    {
        (string data, string model, string index) = WriteModelAndIndex();
        foreach (string[] command in WritingCommands(data, model, index))
        {
            string name = string.Join(' ', command[..2]);
            // Extensions each command accepts, so that the folder, not the extension, is what fails.
            string file = OutputFileFor(command);
            string missing = Path.Combine(Directory, "no-such-folder", file);
            Outcome inMissingFolder = Run(Array.ConvertAll(command, a => a == "{0}" ? missing : a));
            Assert.That(inMissingFolder.ExitCode, Is.EqualTo(1), name);
            Assert.That(inMissingFolder.Error, Does.Contain($"--out {missing}: the folder").And.Contain("does not exist"), name);
            Assert.That(inMissingFolder.Error, Does.Not.Contain(".tmp"), $"{name}: names the user's path, not a temporary file");
            Assert.That(inMissingFolder.Out, Is.Empty, $"{name}: refused before any work");

            Outcome intoDirectory = Run(Array.ConvertAll(command, a => a == "{0}" ? Directory : a));
            Assert.That(intoDirectory.ExitCode, Is.EqualTo(1), name);
            Assert.That(intoDirectory.Error, Does.Contain($"--out {Directory} is a directory"), name);
            Assert.That(intoDirectory.Out, Is.Empty, name);
        }

    }

    /// <summary>A file name with an extension the command writes, so that the folder, not the extension, is what fails.</summary>
    private static string OutputFileFor(string[] command) => (command[0], command[1]) switch
    {
        (_, "centroids") => "c.npy",
        ("search", _) => "ids.npy",
        ("export", _) => "m.safetensors",
        ("index", _) => "out.qidx",
        _ => "out.qinco",
    };

    [Test]
    public void AnOutputThatIsAlsoAnInput_IsRefused_BeforeAnyWork()
    {
        (string data, string model, _) = WriteModelAndIndex();
        string codes = PathOf("same.npy");
        Assert.That(Run("encode", "--model", model, "--input", data, "--rows", "0:20", "--out", codes).ExitCode, Is.EqualTo(0));
        byte[] before = File.ReadAllBytes(codes);
        Outcome overItsCodes = Run("decode", "--model", model, "--codes", codes, "--out", codes);
        Assert.That(overItsCodes.ExitCode, Is.EqualTo(1));
        Assert.That(overItsCodes.Error, Does.Contain($"--out {codes} is also the --codes input"));
        Assert.That(File.ReadAllBytes(codes), Is.EqualTo(before), "the codes are untouched");
    }

    [Test]
    public void ModelAndIndexOutputs_NeedTheirExtension_SoAMistypedOutCannotOverwriteAnotherKindOfFile()
    {
        (string data, string model, string index) = WriteModelAndIndex();
        Outcome indexOverModel = Run("index", "add", "--index", index, "--base", data, "--base-rows", "0:10", "--out", model);
        Assert.That(indexOverModel.ExitCode, Is.EqualTo(1));
        Assert.That(indexOverModel.Error, Does.Contain($"--out {model}: the extension '.qinco'").And.Contain(".qidx"));
        Assert.That(Quantizer.Load(model), Is.Not.Null, "the model is untouched");
        Outcome modelAsText = Run("train", "--method", "rq", "--train", data, "--out", PathOf("m.xyz"));
        Assert.That(modelAsText.ExitCode, Is.EqualTo(1));
        Assert.That(modelAsText.Error, Does.Contain("'.xyz'").And.Contain(".qinco"));
        Assert.That(modelAsText.Out, Is.Empty, "refused before training");
    }

    [Test]
    public void EveryWritingCommand_RefusesAReadOnlyFolder_BeforeAnyWork_NamingThePathGiven()
    {
        (string data, string model, string index) = WriteModelAndIndex();
        string readOnly = PathOf("read-only");
        System.IO.Directory.CreateDirectory(readOnly);
        string indexInside = Path.Combine(readOnly, "i.qidx");
        File.Copy(index, indexInside);
        SetWritable(readOnly, false);
        try
        {
            if (FolderIsWritable(readOnly))
            {
                Assert.Ignore("running as a user (root) who writes into read-only folders");
            }
            foreach (string[] command in WritingCommands(data, model, index).Append(["train", "--method", "rq", "--train", data, "--out", "{0}"]))
            {
                string name = string.Join(' ', command[..2]);
                string file = OutputFileFor(command);
                string target = Path.Combine(readOnly, file);
                Outcome outcome = Run(Array.ConvertAll(command, a => a == "{0}" ? target : a));
                Assert.That(outcome.ExitCode, Is.EqualTo(1), name);
                Assert.That(outcome.Error, Does.Contain($"--out {target}: cannot write into"), name);
                Assert.That(outcome.Out, Is.Empty, name);
            }

            // index add without --out writes over --index: its folder must take the new file.
            Outcome overIndex = Run("index", "add", "--index", indexInside, "--base", data);
            Assert.That(overIndex.ExitCode, Is.EqualTo(1));
            Assert.That(overIndex.Error, Does.Contain($"--index {indexInside}: cannot write into"));
        }
        finally
        {
            SetWritable(readOnly, true);
        }
    }

    [Test]
    public void DirectoriesGivenAsInputs_AreNamedAsDirectories_BeforeAnyWork()
    {
        (string data, string model, string index) = WriteModelAndIndex();
        string folder = PathOf("a-folder");
        System.IO.Directory.CreateDirectory(folder);
        (string[] Args, string Expected)[] cases =
        [
            (["search", "--index", folder, "--queries", data], $"--index {folder} is a directory, not an index file."),
            (["search", "--index", index, "--queries", folder], $"--queries {folder} is a directory, not a vector file."),
            (["search", "--index", index, "--queries", data, "--groundtruth", folder], $"--groundtruth {folder} is a directory, not a ground-truth file."),
            (["encode", "--model", model, "--input", folder, "--out", PathOf("c.npy")], $"--input {folder} is a directory, not a vector file."),
            (["train", "--method", "rq", "--train", folder, "--out", PathOf("m.qinco")], $"--train {folder} is a directory, not a vector file."),
            (["decode", "--model", model, "--codes", folder, "--out", PathOf("d.npy")], $"--codes {folder} is a directory, not a codes file."),
            (["index", "add", "--index", folder, "--base", data], $"--index {folder} is a directory, not an index file."),
            (["import", "--from", folder, "--out", PathOf("m.qinco")], $"--from {folder} is a directory, not a checkpoint file."),
        ];
        foreach ((string[] args, string expected) in cases)
        {
            Outcome outcome = Run(args);
            Assert.That(outcome.ExitCode, Is.EqualTo(1), string.Join(' ', args));
            Assert.That(outcome.Error, Does.Contain(expected).And.Not.Contain("denied"), string.Join(' ', args));
        }
    }

    [Test]
    public void NonFiniteTrainingData_IsNamedByItsFile()
    {
        VectorSet bad = SyntheticData.Generate(300, 16, seed: 3);
        bad[11][4] = float.NaN;
        string train = PathOf("train-with-nan.fvecs");
        VectorFile.WriteFvecs(train, bad);
        foreach (string method in new[] { "rq", "qinco" })
        {
            Outcome outcome = Run("train", "--method", method, "--train", train, "--steps", "2", "--codebook-bits", "4", "--out", PathOf("m.qinco"));
            Assert.That(outcome.ExitCode, Is.EqualTo(1), method);
            Assert.That(outcome.Error, Does.Contain("train-with-nan.fvecs").And.Contain("Vector 11, component 4"), method);
            Assert.That(File.Exists(PathOf("m.qinco")), Is.False, method);
        }
    }

    [Test]
    public void DecodingCodesWithAnUnknownExtension_IsRefused_NamingTheExtensionAsWritten()
    {
        (string model, string codes) = TrainAndEncode();
        string renamed = PathOf("codes.Bin");
        File.Copy(codes, renamed);
        Outcome outcome = Run("decode", "--model", model, "--codes", renamed, "--trust-codes", "--out", PathOf("d.npy"));
        Assert.That(outcome.ExitCode, Is.EqualTo(1));
        Assert.That(outcome.Error, Does.Contain("'.Bin'").And.Not.Contain("'.BIN'"));
        Assert.That(File.Exists(PathOf("d.npy")), Is.False);
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
        Outcome outcome = TrainQincoInterruptedAfterItsFirstEpoch(data, model, "--val", data, "--val-rows", "0:100");
        Assert.That(outcome.ExitCode, Is.EqualTo(CliApp.Interrupted), outcome.Error);
        Assert.That(outcome.Out, Does.StartWith("interrupted; saved the best model so far"));
        Assert.That(outcome.Error, Does.Contain("training stopped: it was interrupted (Ctrl+C or SIGTERM) after 1 epoch; kept epoch 1"));
        Assert.That(Quantizer.Load(model).IsTrained);

        Outcome before = RunCancelled("train", "--method", "qinco", "--train", data, "--steps", "2", "--codebook-bits", "4", "--out", PathOf("none.qinco"));
        Assert.That(before.ExitCode, Is.EqualTo(CliApp.Interrupted));
        Assert.That(File.Exists(PathOf("none.qinco")), Is.False);
    }

    [Test]
    public void InterruptedRqTraining_SaysNothingWasSaved_WithoutMentioningEpochs_AndExits130()
    {
        string data = WriteData(600);
        string model = PathOf("rq.qinco");
        Outcome outcome = RunCancelled("train", "--method", "rq", "--train", data, "--steps", "2", "--codebook-bits", "4", "--out", model);
        Assert.That(outcome.ExitCode, Is.EqualTo(CliApp.Interrupted), outcome.Error);
        Assert.That(outcome.Error, Does.Contain("interrupted: RQ training keeps no partial model").And.Contain("nothing was saved"));
        Assert.That(outcome.Error, Does.Not.Contain("before any epoch"));
        Assert.That(outcome.Out, Is.Empty);
        Assert.That(File.Exists(model), Is.False);
    }

    [Test]
    public void InterruptedTrainingWithoutValidationSet_SaysTheKeptModelsMseIsOnTrainingRows()
    {
        string data = WriteData(600);
        string model = PathOf("interrupted.qinco");
        Outcome outcome = TrainQincoInterruptedAfterItsFirstEpoch(data, model);
        Assert.That(outcome.ExitCode, Is.EqualTo(CliApp.Interrupted), outcome.Error);
        Assert.That(outcome.Out, Does.StartWith("interrupted; saved the best model so far"));
        Assert.That(outcome.Out, Does.Contain("no validation MSE (no --val; MSE ").And.Contain(" on the first 600 training rows, which chose the model kept)"));
        Assert.That(File.Exists(model));
    }

    [Test]
    public void InterruptedIndexCommand_ExitsWith130_AndWritesNothing()
    {
        string data = WriteData(600);
        string centroids = PathOf("c.npy");
        Outcome outcome = RunCancelled("index", "centroids", "--train", data, "--lists", "8", "--threads", "1", "--out", centroids);
        Assert.That(outcome.ExitCode, Is.EqualTo(CliApp.Interrupted), outcome.Error);
        Assert.That(outcome.Error, Does.Contain("interrupted: nothing was written."));
        Assert.That(File.Exists(centroids), Is.False);
    }

    [Test]
    public void InterruptedIndexAdd_ExitsWith130_SaysSo_AndLeavesTheIndexUnchanged()
    {
        (string data, _, string index) = WriteModelAndIndex();
        byte[] before = File.ReadAllBytes(index);
        Outcome outcome = RunCancelled("index", "add", "--index", index, "--base", data, "--threads", "1");
        Assert.That(outcome.ExitCode, Is.EqualTo(CliApp.Interrupted), outcome.Error);
        Assert.That(outcome.Error, Does.Contain("interrupted: nothing was written."));
        Assert.That(File.ReadAllBytes(index), Is.EqualTo(before));
    }

    private static Outcome Run(params string[] args) => Execute(args, CancellationToken.None);

    /// <summary>Runs a command whose cancellation (Ctrl+C or SIGTERM) was requested before it started.</summary>
    private static Outcome RunCancelled(params string[] args)
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        return Execute(args, cancelled.Token);
    }

    private static Outcome Execute(string[] args, CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr, cancellationToken);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes data.fvecs, an RQ model m.qinco (2 x 8 bits) and a flat index i.idx of the data.</summary>
    private (string Data, string Model, string Index) WriteModelAndIndex()
    {
        string data = WriteData(600);
        string model = PathOf("m.qinco");
        // 8-bit codebooks: the index's look-up-table search needs one byte per code index.
        Outcome train = Run("train", "--method", "rq", "--train", data, "--steps", "2", "--codebook-bits", "8", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string index = PathOf("i.qidx");
        Outcome build = Run("index", "build", "--model", model, "--base", data, "--threads", "1", "--out", index);
        Assert.That(build.ExitCode, Is.EqualTo(0), build.Error);
        return (data, model, index);
    }

    /// <summary>Makes <paramref name="folder"/> read-only (r-x) or writable again (rwx) for its owner.</summary>
    private static void SetWritable(string folder, bool writable)
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("read-only folders are set with Unix file modes here");
        }
        else
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute | (writable ? UnixFileMode.UserWrite : UnixFileMode.None));
        }
    }

    /// <summary>Whether a file can be created in <paramref name="folder"/> (root writes into read-only folders).</summary>
    private static bool FolderIsWritable(string folder)
    {
        string probe = Path.Combine(folder, "probe");
        try
        {
            File.WriteAllText(probe, string.Empty);
            File.Delete(probe);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A model trained on 600 vectors (seed 1) and <c>codes.npy</c> that <c>qinco encode</c> wrote with it.</summary>
    private (string Model, string Codes) TrainAndEncode()
    {
        string data = WriteData(600);
        string model = Train(data, "m.qinco", seed: 1);
        string codes = PathOf("codes.npy");
        Assert.That(Run("encode", "--model", model, "--input", data, "--out", codes).ExitCode, Is.EqualTo(0));
        return (model, codes);
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

    /// <summary>Runs a small QINCo training and cancels it (as Ctrl+C does) once its first epoch's progress line is printed.</summary>
    private static Outcome TrainQincoInterruptedAfterItsFirstEpoch(string data, string model, params string[] extra)
    {
        using var cts = new CancellationTokenSource();
        using var stdout = new StringWriter();
        using var stderr = new CallbackWriter(line =>
        {
            if (line.Contains("batch 3/3", StringComparison.Ordinal))
            {
                cts.Cancel();
            }
        });
        int code = CliApp.Run(["train", "--method", "qinco", "--train", data, .. extra, "--steps", "2", "--codebook-bits", "4",
            "--blocks", "1", "--hidden", "8", "--batch-size", "200", "--max-epochs", "50", "--workers", "1", "--threads", "1", "--out", model], stdout, stderr, cts.Token);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
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
