using System;
using System.IO;
using System.Text.Json;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Search;
using Qinco.Tests.IO;

namespace Qinco.Tests.Cli;

public sealed class IndexCliTests : TempFiles
{
    private sealed record Outcome(int ExitCode, string Out, string Error);

    private static Outcome Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Synthetic 16-d data: rows 0:1000 train, 1000:1400 base; 30 queries with exact ground truth over the base.</summary>
    private (string Data, string Queries, string Truth) WriteData()
    {
        VectorSet all = SyntheticData.Generate(1400, 16, seed: 1, distributionSeed: 5);
        VectorSet queries = SyntheticData.Generate(30, 16, seed: 2, distributionSeed: 5);
        Matrix<long> truth = FlatSearch.Search(all.Slice(1000, 400), queries, 100, 1).Ids;
        string data = PathOf("data.fvecs"), q = PathOf("queries.fvecs"), t = PathOf("truth.ivecs");
        VectorFile.WriteFvecs(data, all);
        VectorFile.WriteFvecs(q, queries);
        VectorFile.WriteIvecs(t, Matrix<int>.FromArray(Array.ConvertAll(truth.Data, id => (int)id), truth.Columns));
        return (data, q, t);
    }

    [Test]
    public void CentroidsTrainBuildAddSearchTune_EndToEnd()
    {
        var (data, queries, truth) = WriteData();
        string centroids = PathOf("c.fvecs"), model = PathOf("rq.qinco"), index = PathOf("index.qidx"), plot = PathOf("tune.svg");
        Outcome c = Run("index", "centroids", "--train", data, "--train-rows", "0:1000", "--lists", "4", "--threads", "1", "--out", centroids);
        Assert.That(c.ExitCode, Is.EqualTo(0), c.Error);
        Outcome t = Run("train", "--method", "rq", "--train", data, "--train-rows", "0:1000", "--steps", "3", "--beam", "1", "--threads", "1", "--residuals-of", centroids, "--out", model);
        Assert.That(t.ExitCode, Is.EqualTo(0), t.Error);
        Outcome b = Run("index", "build", "--model", model, "--base", data, "--base-rows", "1000:1300", "--centroids", centroids, "--norms", "byte", "--threads", "1", "--out", index);
        Assert.That(b.ExitCode, Is.EqualTo(0), b.Error);
        Assert.That(b.Out, Does.Contain("indexed 300 vectors in 4 lists, 12 bytes/vector").And.Contain("decoder MSE"));
        Outcome a = Run("index", "add", "--index", index, "--base", data, "--base-rows", "1300:1400", "--threads", "1");
        Assert.That(a.ExitCode, Is.EqualTo(0), a.Error);
        Assert.That(a.Out, Does.Contain("ids 300..399").And.Contain("400 in the index"));

        Outcome s = Run("search", "--index", index, "--queries", queries, "--groundtruth", truth, "--nprobe", "4", "--shortlist", "0", "--threads", "1", "--json");
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

        Outcome tune = Run("tune", "--index", index, "--queries", queries, "--groundtruth", truth, "--nprobe", "1,2,8", "--shortlist", "10,100", "--threads", "1", "--plot", plot);
        Assert.That(tune.ExitCode, Is.EqualTo(0), tune.Error);
        Assert.That(tune.Out, Does.Contain("Pareto"));
        Assert.That(File.ReadAllText(plot), Does.Contain("<svg"));
    }

    [Test]
    public void BadIndexCommands_ExitWithUsageOrFailure()
    {
        var (data, queries, _) = WriteData();
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
