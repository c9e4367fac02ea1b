using System;
using System.IO;
using System.Text.Json;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Tests.IO;
using static Qinco.Tests.Cli.CliHarness;

namespace Qinco.Tests.Cli;

public sealed class IndexCliTests : TempFiles
{
    /// <summary>Synthetic 16-d data: rows 0:1000 train, 1000:1400 base; 30 queries with their exact top 100 over the base.</summary>
    private (string Data, string Queries, string Truth) Data() => WriteData(PathOf, 1400, 1000, 400, 30, 100);

    [Test]
    public void CentroidsTrainBuildAddSearchTune_EndToEnd()
    {
        var (data, queries, truth) = Data();
        string centroids = PathOf("c.fvecs"), model = PathOf("rq.qinco"), index = PathOf("index.qidx"), plot = PathOf("tune.svg");
        CliOutcome c = Run("index", "centroids", "--train", data, "--train-rows", "0:1000", "--lists", "4", "--threads", "1", "--out", centroids);
        Assert.That(c.ExitCode, Is.EqualTo(0), c.Error);
        CliOutcome t = Run("train", "--method", "rq", "--train", data, "--train-rows", "0:1000", "--steps", "3", "--beam", "1", "--threads", "1", "--residuals-of", centroids, "--out", model);
        Assert.That(t.ExitCode, Is.EqualTo(0), t.Error);
        CliOutcome b = Run("index", "build", "--model", model, "--base", data, "--base-rows", "1000:1300", "--centroids", centroids, "--norms", "byte", "--threads", "1", "--out", index);
        Assert.That(b.ExitCode, Is.EqualTo(0), b.Error);
        Assert.That(b.Out, Does.Contain("indexed 300 vectors in 4 lists, 12 bytes/vector").And.Contain("decoder MSE"));
        CliOutcome a = Run("index", "add", "--index", index, "--base", data, "--base-rows", "1300:1400", "--threads", "1");
        Assert.That(a.ExitCode, Is.EqualTo(0), a.Error);
        Assert.That(a.Out, Does.Contain("ids 300..399").And.Contain("400 in the index"));

        CliOutcome s = Run("search", "--index", index, "--queries", queries, "--groundtruth", truth, "--nprobe", "4", "--shortlist", "0", "--threads", "1", "--json");
        Assert.That(s.ExitCode, Is.EqualTo(0), s.Error);
        using (JsonDocument json = JsonDocument.Parse(s.Out))
        {
            JsonElement root = json.RootElement;
            foreach (string key in new[] { "nprobe", "shortlist", "r_at_1", "r_at_10", "r_at_100", "us_per_query" })
            {
                Assert.That(root.TryGetProperty(key, out _), $"key {key}");
            }
            Assert.That(root.GetProperty("r_at_100").GetDouble(), Is.EqualTo(1.0), "every vector is scanned and 100 of 400 are returned");
            Assert.That(root.GetProperty("r_at_1").GetDouble(), Is.InRange(0.3, 1.0));
        }

        CliOutcome tune = Run("tune", "--index", index, "--queries", queries, "--groundtruth", truth, "--nprobe", "1,2,8", "--shortlist", "10,100", "--threads", "1", "--plot", plot);
        Assert.That(tune.ExitCode, Is.EqualTo(0), tune.Error);
        Assert.That(tune.Out, Does.Contain("Pareto"));
        Assert.That(File.ReadAllText(plot), Does.Contain("<svg"));
    }

    [Test]
    public void PairwiseOnFewFitVectors_Warns_AndStillBuilds()
    {
        var (data, _, _) = Data();
        string centroids = PathOf("c.fvecs"), model = PathOf("rq.qinco"), index = PathOf("index.qidx");
        Assert.That(Run("index", "centroids", "--train", data, "--train-rows", "0:1000", "--lists", "4", "--threads", "1", "--out", centroids).ExitCode, Is.EqualTo(0));
        Assert.That(Run("train", "--method", "rq", "--train", data, "--train-rows", "0:1000", "--steps", "3", "--beam", "1", "--threads", "1", "--residuals-of", centroids, "--out", model).ExitCode, Is.EqualTo(0));
        CliOutcome b = Run("index", "build", "--model", model, "--base", data, "--base-rows", "1000:1300", "--centroids", centroids, "--pairwise", "true",
            "--pairwise-max-mb", "64", "--threads", "1", "--out", index);
        Assert.That(b.ExitCode, Is.EqualTo(0), b.Error);
        Assert.That(b.Error, Does.Contain("warning: --pairwise fits codebooks of 65,536 cells").And.Contain("on 300 fit vectors"));
        Assert.That(b.Out, Does.Contain("pairwise"));
        Assert.That(b.Error, Does.Not.Contain("additive decoder has"), "RQ's own codebooks are the additive decoder: nothing is fitted");
    }

    [Test]
    public void Tune_UnwritablePlot_FailsBeforeReadingAnything()
    {
        string plot = PathOf(Path.Combine("no", "such", "folder", "tune.svg"));
        CliOutcome outcome = Run("tune", "--index", PathOf("absent.qidx"), "--queries", PathOf("absent.fvecs"), "--groundtruth", PathOf("absent.ivecs"), "--plot", plot);
        Assert.That(outcome.ExitCode, Is.EqualTo(1), outcome.Error);
        Assert.That(outcome.Error, Does.Contain("--plot").And.Contain("tune.svg").And.Not.Contain("absent.qidx"));
    }

    [Test]
    public void IvfQincoModel_IndexesInItsOwnLists()
    {
        var (data, queries, truth) = Data();
        string model = PathOf("ivf.qinco"), index = PathOf("ivf.qidx");
        CliOutcome t = Run("train", "--method", "ivf-qinco", "--lists", "4", "--train", data, "--train-rows", "0:1000", "--steps", "2", "--blocks", "1",
            "--hidden", "8", "--max-epochs", "1", "--threads", "1", "--out", model);
        Assert.That(t.ExitCode, Is.EqualTo(0), t.Error);
        CliOutcome refused = Run("index", "build", "--model", model, "--base", data, "--base-rows", "1000:1400", "--lists", "8", "--out", index);
        Assert.That(refused.ExitCode, Is.EqualTo(CliApp.Failure));
        Assert.That(refused.Error, Does.Contain("its own lists"));
        CliOutcome b = Run("index", "build", "--model", model, "--base", data, "--base-rows", "1000:1400", "--threads", "1", "--out", index);
        Assert.That(b.ExitCode, Is.EqualTo(0), b.Error);
        Assert.That(b.Out, Does.Contain("indexed 400 vectors in 4 lists, 14 bytes/vector"));
        Assert.That(b.Error, Does.Contain("warning: the additive decoder has 512 codewords (2 x 256) but was fitted on 400 vectors"),
            "least squares with fewer fit vectors than codewords");
        CliOutcome s = Run("search", "--index", index, "--queries", queries, "--groundtruth", truth, "--nprobe", "4", "--shortlist", "0", "--threads", "1", "--json");
        Assert.That(s.ExitCode, Is.EqualTo(0), s.Error);
        using JsonDocument json = JsonDocument.Parse(s.Out);
        Assert.That(json.RootElement.GetProperty("r_at_100").GetDouble(), Is.EqualTo(1.0), "every vector is scanned and 100 of 400 are returned");

        CliOutcome hugeK = Run("search", "--index", index, "--queries", queries, "--k", "2000000", "--threads", "1");
        Assert.That(hugeK.ExitCode, Is.EqualTo(CliApp.Failure));
        Assert.That(hugeK.Error, Does.Contain("--k 2000000 exceeds the index's 400 vectors"));
        string other = PathOf("other.qidx");
        Assert.That(Run("index", "build", "--model", model, "--base", data, "--base-rows", "1000:1100", "--threads", "1", "--out", other).ExitCode, Is.EqualTo(0));
        CliOutcome foreignTruth = Run("search", "--index", other, "--queries", queries, "--groundtruth", truth, "--k", "10", "--threads", "1");
        Assert.That(foreignTruth.ExitCode, Is.EqualTo(CliApp.Failure), "ground truth naming ids the index does not hold would give a wrong recall");
        Assert.That(foreignTruth.Error, Does.Contain("not an id in the index"));
    }

    [Test]
    public void BadIndexCommands_ExitWithUsageOrFailure()
    {
        var (data, queries, _) = Data();
        string corrupt = PathOf("bad.qidx");
        File.WriteAllBytes(corrupt, [1, 2, 3]);
        Assert.Multiple(() =>
        {
            Assert.That(Run("search", "--index", corrupt, "--queries", queries).ExitCode, Is.EqualTo(CliApp.Failure));
            Assert.That(Run("search", "--index", corrupt, "--queries", queries).Error, Does.Contain("bad.qidx"));
            Assert.That(Run("search", "--index", corrupt, "--queries", queries, "--k", "0").ExitCode, Is.EqualTo(CliApp.Usage));
            Assert.That(Run("tune", "--index", corrupt, "--queries", queries).ExitCode, Is.EqualTo(CliApp.Usage), "tune needs ground truth");
            Assert.That(Run("tune", "--index", corrupt, "--queries", queries, "--groundtruth", data, "--nprobe", "0").ExitCode, Is.EqualTo(CliApp.Usage));
            Assert.That(Run("index", "build", "--model", corrupt, "--base", data, "--lists", "2", "--centroids", data, "--out", PathOf("x")).ExitCode, Is.EqualTo(CliApp.Usage));
        });
    }
}
