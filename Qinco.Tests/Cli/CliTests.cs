using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Search;
using Qinco.Tests.IO;

namespace Qinco.Tests.Cli;

public sealed class CliTests : TempFiles
{
    private static CliOutcome Run(params string[] args) => CliHarness.Run(args);

    /// <summary>Writes 700 synthetic 16-d vectors (train rows 0:500, validation 500:600, base 600:700) and 20 queries with exact ground truth.</summary>
    private (string Data, string Queries, string Truth) WriteData() => CliHarness.WriteData(PathOf, 700, 600, 100, 20, 10);

    private string TrainRq(string data)
    {
        string model = PathOf("rq.qinco");
        CliOutcome train = Run("train", "--method", "rq", "--train", data, "--train-rows", "0:500", "--val", data, "--val-rows", "500:600",
            "--steps", "2", "--codebook-bits", "4", "--beam", "2", "--seed", "3", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        Assert.That(train.Out, Does.Contain("validation MSE"));
        Assert.That(File.Exists(model));
        return model;
    }

    [Test]
    public void Train_Eval_Encode_Decode_RoundTrip()
    {
        var (data, queries, truth) = WriteData();
        string model = TrainRq(data);

        CliOutcome eval = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--queries", queries, "--groundtruth", truth, "--threads", "1", "--json");
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        using (JsonDocument json = JsonDocument.Parse(eval.Out))
        {
            JsonElement root = json.RootElement;
            foreach (string key in new[] { "method", "mse", "r_at_1", "r_at_10", "r_at_100", "encode_us_per_vector", "decode_us_per_vector", "threads" })
            {
                Assert.That(root.TryGetProperty(key, out _), $"key {key}");
            }
            Assert.That(root.GetProperty("mse").GetDouble(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("r_at_100").GetDouble(), Is.GreaterThanOrEqualTo(root.GetProperty("r_at_10").GetDouble()));
            Assert.That(root.GetProperty("r_at_10").GetDouble(), Is.GreaterThanOrEqualTo(root.GetProperty("r_at_1").GetDouble()));
            Assert.That(root.GetProperty("threads").GetInt32(), Is.EqualTo(1));
            Assert.That(root.GetProperty("method").GetString(), Does.StartWith("RQ beam 2"));
        }

        CliOutcome noQueries = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--json");
        Assert.That(noQueries.ExitCode, Is.EqualTo(0), noQueries.Error);
        using (JsonDocument json = JsonDocument.Parse(noQueries.Out))
        {
            Assert.That(json.RootElement.GetProperty("r_at_1").ValueKind, Is.EqualTo(JsonValueKind.Null));
        }

        CliOutcome table = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700");
        Assert.That(table.ExitCode, Is.EqualTo(0), table.Error);
        Assert.That(table.Out, Does.Contain("MSE").And.Contain("RQ beam 2"));

        string codes = PathOf("codes.npy");
        CliOutcome encode = Run("encode", "--model", model, "--input", data, "--rows", "600:700", "--out", codes);
        Assert.That(encode.ExitCode, Is.EqualTo(0), encode.Error);
        VectorFileInfo codeInfo = VectorFile.GetInfo(codes);
        Assert.That(codeInfo.ElementType, Is.EqualTo(VectorElementType.UInt8));
        Assert.That(codeInfo.Rows, Is.EqualTo(100));
        Assert.That(codeInfo.Dimension, Is.EqualTo(1), "2 steps of 4 bits pack into one byte");

        foreach (string name in new[] { "decoded.fvecs", "decoded.npy" })
        {
            string decoded = PathOf(name);
            CliOutcome decode = Run("decode", "--model", model, "--codes", codes, "--out", decoded);
            Assert.That(decode.ExitCode, Is.EqualTo(0), decode.Error);
            VectorSet back = VectorFile.Read(decoded);
            Assert.That(back.Count, Is.EqualTo(100));
            Assert.That(back.Dimension, Is.EqualTo(16));

            IQuantizer quantizer = Quantizer.Load(model);
            VectorSet expected = quantizer.Decode(quantizer.Encode(VectorFile.Read(data, RowRange.Parse("600:700"))));
            Assert.That(back.Data, Is.EqualTo(expected.Data), name);
        }

        CliOutcome prefix = Run("decode", "--model", model, "--codes", codes, "--steps", "1", "--out", PathOf("coarse.fvecs"));
        Assert.That(prefix.ExitCode, Is.EqualTo(0), prefix.Error);
        CliOutcome tooMany = Run("decode", "--model", model, "--codes", codes, "--steps", "3", "--out", PathOf("x.fvecs"));
        Assert.That(tooMany.ExitCode, Is.EqualTo(1));
        Assert.That(tooMany.Error, Does.Contain("--steps 3"));
    }

    [Test]
    public void Eval_ReadsInt64GroundTruth_AsIvecsDoes()
    {
        var (data, queries, truth) = WriteData();
        string model = TrainRq(data);
        string int64Truth = PathOf("truth.npy");
        VectorFile.WriteNpy(int64Truth, VectorFile.ReadLongMatrix(truth));
        Assert.That(VectorFile.GetInfo(int64Truth).ElementType, Is.EqualTo(VectorElementType.Int64));

        string Recalls(string groundTruth)
        {
            CliOutcome eval = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--queries", queries, "--groundtruth", groundTruth, "--threads", "1", "--json");
            Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
            using JsonDocument json = JsonDocument.Parse(eval.Out);
            return string.Join(' ', new[] { "r_at_1", "r_at_10", "r_at_100" }.Select(key => json.RootElement.GetProperty(key).GetDouble()));
        }
        Assert.That(Recalls(int64Truth), Is.EqualTo(Recalls(truth)));
    }

    [Test]
    public void Encode_WritesTheCodesFileByteForByteAsBefore()
    {
        var (data, _, _) = WriteData();
        string model = TrainRq(data);
        string codes = PathOf("codes.npy");
        CliOutcome encode = Run("encode", "--model", model, "--input", data, "--rows", "600:700", "--out", codes);
        Assert.That(encode.ExitCode, Is.EqualTo(0), encode.Error);

        // What the CLI wrote before codes had a type: the code bytes widened to a VectorSet, written as a uint8 .npy.
        IQuantizer quantizer = Quantizer.Load(model);
        byte[] packed = quantizer.Encode(VectorFile.Read(data, RowRange.Parse("600:700"))).Data;
        string before = PathOf("before.npy");
        VectorFile.WriteNpy(before, VectorSet.FromArray(Array.ConvertAll(packed, b => (float)b), quantizer.CodeSize), VectorElementType.UInt8);
        byte[] written = File.ReadAllBytes(codes);
        Assert.That(written, Is.EqualTo(File.ReadAllBytes(before)));

        // And pinned literally: NumPy's 1.0 header, padded to 64 bytes, then the packed codes.
        string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (100, 1), }";
        byte[] expectedHead = [0x93, .. "NUMPY"u8, 1, 0, 118, 0, .. System.Text.Encoding.ASCII.GetBytes(header.PadRight(117) + "\n")];
        Assert.That(written[..128], Is.EqualTo(expectedHead));
        Assert.That(written[128..], Is.EqualTo(packed));

        CliOutcome decode = Run("decode", "--model", model, "--codes", codes, "--out", PathOf("back.fvecs"));
        Assert.That(decode.ExitCode, Is.EqualTo(0), decode.Error);
        Assert.That(VectorFile.Read(PathOf("back.fvecs")).Data, Is.EqualTo(quantizer.Decode(packed).Data));
    }

    [Test]
    public void Decode_CodesOfAnotherModel_Exit1NamingTheFile()
    {
        var (data, _, _) = WriteData();
        string model = TrainRq(data);
        string wide = PathOf("wide.npy");
        VectorFile.WriteNpy(wide, new Matrix<byte>(3, 2));
        CliOutcome decode = Run("decode", "--model", model, "--codes", wide, "--out", PathOf("x.fvecs"));
        Assert.That(decode.ExitCode, Is.EqualTo(1));
        Assert.That(decode.Error, Does.Contain("wide.npy").And.Contain("codes of 2 bytes").And.Contain("1-byte codes"));
        string floats = PathOf("floats.npy");
        VectorFile.WriteNpy(floats, new VectorSet(3, 1));
        CliOutcome notBytes = Run("decode", "--model", model, "--codes", floats, "--out", PathOf("x.fvecs"));
        Assert.That(notBytes.ExitCode, Is.EqualTo(1));
        Assert.That(notBytes.Error, Does.Contain("floats.npy").And.Contain("not uint8"));
    }

    [Test]
    public void Eval_SearchOverride_EncodesWithTheGivenBeam()
    {
        var (data, _, _) = WriteData();
        string model = TrainRq(data);

        CliOutcome greedy = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--beam", "1", "--threads", "1", "--json");
        Assert.That(greedy.ExitCode, Is.EqualTo(0), greedy.Error);
        var rq = (ResidualQuantizer)Quantizer.Load(model);
        VectorSet database = VectorFile.Read(data, RowRange.Parse("600:700"));
        double expected = QuantizerEvaluation.MeanSquaredError(database, rq.WithBeamWidth(1).Decode(rq.WithBeamWidth(1).Encode(database)));
        using (JsonDocument json = JsonDocument.Parse(greedy.Out))
        {
            Assert.That(json.RootElement.GetProperty("method").GetString(), Does.StartWith("RQ beam 1"));
            Assert.That(json.RootElement.GetProperty("mse").GetDouble(), Is.EqualTo(expected).Within(1e-9).Percent);
        }

        CliOutcome candidates = Run("eval", "--model", model, "--base", data, "--candidates", "4");
        Assert.That(candidates.ExitCode, Is.EqualTo(1));
        Assert.That(candidates.Error, Does.Contain("--candidates").And.Contain("qinco"));
    }

    [Test]
    public void Eval_QincoSearchOverride_ChangesTheSearchNotTheModel()
    {
        var (data, _, _) = WriteData();
        string model = PathOf("qinco.qinco");
        CliOutcome train = Run("train", "--method", "qinco", "--train", data, "--train-rows", "0:500", "--val", data, "--val-rows", "500:600",
            "--steps", "2", "--codebook-bits", "4", "--blocks", "1", "--hidden", "8", "--max-epochs", "1", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);

        CliOutcome own = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--threads", "1", "--json");
        CliOutcome greedy = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--beam", "1", "--candidates", "0", "--threads", "1", "--json");
        Assert.That(own.ExitCode, Is.EqualTo(0), own.Error);
        Assert.That(greedy.ExitCode, Is.EqualTo(0), greedy.Error);
        var qinco = (QincoQuantizer)Quantizer.Load(model);
        QincoQuantizer exhaustive = qinco.WithEncoding(beamWidth: 1, candidates: 0);
        VectorSet database = VectorFile.Read(data, RowRange.Parse("600:700"));
        double expected = QuantizerEvaluation.MeanSquaredError(database, exhaustive.Decode(exhaustive.Encode(database)));
        using JsonDocument ownJson = JsonDocument.Parse(own.Out), greedyJson = JsonDocument.Parse(greedy.Out);
        Assert.That(ownJson.RootElement.GetProperty("method").GetString(), Does.Contain("beam 5 x 16"));
        Assert.That(greedyJson.RootElement.GetProperty("method").GetString(), Does.Contain("beam 1 x all"));
        Assert.That(greedyJson.RootElement.GetProperty("mse").GetDouble(), Is.EqualTo(expected).Within(1e-9).Percent);
    }

    [TestCase("auto", "plateau recipe (lr 0.0001, batch 256)")]
    [TestCase("cosine", "warm-up cosine recipe (lr 0.0008, batch 1024, batches encoded with beam 1 x 16)")]
    [TestCase("plateau", "plateau recipe (lr 0.0001, batch 256)")]
    public void Train_Qinco_SaysItReadsTheFileBatchByBatch_AndWhichRecipeItUses(string recipe, string expected)
    {
        var (data, _, _) = WriteData();
        string model = PathOf("qinco.qinco");
        CliOutcome train = Run("train", "--method", "qinco", "--recipe", recipe, "--train", data, "--train-rows", "0:500", "--steps", "2", "--codebook-bits", "4",
            "--blocks", "1", "--hidden", "8", "--max-epochs", "1", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        Assert.That(train.Error, Does.Contain("on 500 x ").And.Contain("batch by batch").And.Contain(expected));
        Assert.That(Quantizer.Load(model).IsTrained, Is.True);
    }

    [Test]
    public void Train_TrainBeamAndCandidates_ChangeOnlyTheTrainingSearch()
    {
        var (data, _, _) = WriteData();
        string model = PathOf("trainsearch.qinco");
        CliOutcome train = Run("train", "--method", "qinco", "--recipe", "plateau", "--train-beam", "2", "--train-candidates", "4", "--train", data, "--train-rows", "0:500",
            "--steps", "2", "--codebook-bits", "4", "--blocks", "1", "--hidden", "8", "--max-epochs", "1", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        Assert.That(train.Error, Does.Contain("plateau recipe (lr 0.0001, batch 256, batches encoded with beam 2 x 4)"));
        Assert.That(Quantizer.Load(model).Search, Is.EqualTo(new EncoderSearch(5, 16)), "the model keeps the encoder's search");
    }

    [Test]
    public void Train_RecipeAppliesOnlyToQincoMethods()
    {
        CliOutcome outcome = Run("train", "--method", "rq", "--train", "a.fvecs", "--recipe", "cosine", "--out", "m");
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.Error, Does.Contain("--recipe applies only to --method qinco"));
    }

    [TestCase("train", "--method", "pq", "--train", "a.fvecs", "--out", "m.qinco")]
    [TestCase("train", "--method", "rq", "--out", "m.qinco")]
    [TestCase("train", "--method", "rq", "--train", "a.fvecs", "--out", "m", "--blocks", "2")]
    [TestCase("train", "--method", "rq", "--train", "a.fvecs", "--train-rows", "9:3", "--out", "m.qinco")]
    [TestCase("train", "--method", "rq", "--train", "a.fvecs", "--steps", "zero", "--out", "m.qinco")]
    [TestCase("train", "--method", "qinco", "--train", "a.fvecs", "--lr", "-1", "--out", "m.qinco")]
    [TestCase("train", "--method", "rq", "--train", "a.fvecs", "--steps", "0", "--out", "m.qinco")]
    [TestCase("train", "--method", "qinco", "--train", "a.fvecs", "--encode-beam", "5000", "--out", "m.qinco")]
    [TestCase("train", "--method", "qinco", "--train", "a.fvecs", "--train-beam", "0", "--out", "m.qinco")]
    [TestCase("train", "--method", "rq", "--train", "a.fvecs", "--train-candidates", "4", "--out", "m.qinco")]
    [TestCase("train", "--method", "rq", "--train", "a.fvecs", "--threads", "0", "--out", "m.qinco")]
    [TestCase("eval", "--model", "m", "--base", "b.fvecs", "--beam", "0")]
    [TestCase("eval", "--model", "m", "--base", "b.fvecs", "--queries", "q.fvecs")]
    [TestCase("frobnicate")]
    [TestCase()]
    public void BadArguments_PrintUsageAndExit2(params string[] args)
    {
        CliOutcome outcome = Run(args);
        Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Error);
        Assert.That(outcome.Error, Does.Contain("error:").And.Contain("Usage:"));
        Assert.That(outcome.Error, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void OptionRejectedByTheLibrary_NamesTheFlagBeforeReadingAnyFile()
    {
        CliOutcome outcome = Run("train", "--method", "qinco", "--train", PathOf("absent.fvecs"), "--candidates", "5000", "--out", PathOf("m.qinco"));
        Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Error);
        Assert.That(outcome.Error, Does.StartWith("error: --candidates: ").And.Contain("5000").And.Not.Contain("absent.fvecs"));
    }

    [Test]
    public void IvfQinco_TrainsEvaluatesAndDecodesTheCentroidPrefix()
    {
        var (data, _, _) = WriteData();
        string model = PathOf("ivf.qinco");
        CliOutcome train = Run("train", "--method", "ivf-qinco", "--lists", "8", "--train", data, "--train-rows", "0:500", "--steps", "2",
            "--codebook-bits", "4", "--blocks", "1", "--hidden", "8", "--max-epochs", "1", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        Assert.That(train.Out, Does.Contain("IVF8-QINCo"));
        CliOutcome eval = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--threads", "1", "--json");
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        CliOutcome spanning = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--probed-lists", "3", "--threads", "1", "--json");
        Assert.That(spanning.ExitCode, Is.EqualTo(0), spanning.Error);
        Assert.That(spanning.Out, Does.Contain("over 3 lists"));
        CliOutcome tooMany = Run("eval", "--model", model, "--base", data, "--base-rows", "600:700", "--probed-lists", "9");
        Assert.That(tooMany.ExitCode, Is.Not.EqualTo(0));
        Assert.That(tooMany.Error, Does.Contain("--probed-lists 9").And.Contain("8 lists"));
        string codes = PathOf("ivf-codes.npy"), centroids = PathOf("centroids.fvecs");
        Assert.That(Run("encode", "--model", model, "--input", data, "--rows", "600:700", "--out", codes).ExitCode, Is.EqualTo(0));
        CliOutcome decode = Run("decode", "--model", model, "--codes", codes, "--steps", "0", "--out", centroids);
        Assert.That(decode.ExitCode, Is.EqualTo(0), decode.Error);
        var ivf = (IvfQincoQuantizer)Quantizer.Load(model);
        float[] all = ivf.GetCentroids();
        VectorSet decoded = VectorFile.Read(centroids);
        Assert.That(Enumerable.Range(0, decoded.Count).All(i => Enumerable.Range(0, 8).Any(l => decoded.Row(i).SequenceEqual(all.AsSpan(l * decoded.Dimension, decoded.Dimension)))),
            "every row decoded with --steps 0 is one of the centroids");

        CliOutcome wrongMethod = Run("train", "--method", "qinco", "--train", data, "--lists", "8", "--out", model);
        Assert.That(wrongMethod.ExitCode, Is.EqualTo(2));
        Assert.That(wrongMethod.Error, Does.Contain("--lists applies only to --method ivf-qinco or ivf-qinco2"));
    }

    [Test]
    public void Qinco2_TrainsWithThePresetAndTheGivenOverrides()
    {
        var (data, _, _) = WriteData();
        string model = PathOf("q2.qinco");
        CliOutcome train = Run("train", "--method", "ivf-qinco2", "--preset", "M", "--lists", "8", "--train", data, "--train-rows", "0:500", "--steps", "2",
            "--codebook-bits", "4", "--hidden", "8", "--embedding", "6", "--encode-beam", "3", "--max-epochs", "1", "--threads", "1", "--out", model);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        var quantizer = (IvfQincoQuantizer)Quantizer.Load(model);
        Assert.That(quantizer.Options.Version, Is.EqualTo(QincoVersion.Qinco2));
        Assert.That(quantizer.Options.ResidualBlocks, Is.EqualTo(4), "the preset M's L, not QINCo1's default");
        Assert.That((quantizer.Options.HiddenSize, quantizer.Options.EmbeddingSize, quantizer.Options.Search), Is.EqualTo((8, (int?)6, new EncoderSearch(3, 16))), "the options given override the preset");

        CliOutcome wrongMethod = Run("train", "--method", "qinco", "--train", data, "--preset", "L", "--out", model);
        Assert.That(wrongMethod.ExitCode, Is.EqualTo(2));
        Assert.That(wrongMethod.Error, Does.Contain("--preset applies only to --method qinco2 or ivf-qinco2"));
        CliOutcome badPreset = Run("train", "--method", "qinco2", "--train", data, "--preset", "XL", "--out", model);
        Assert.That(badPreset.ExitCode, Is.EqualTo(2));
        CliOutcome onDevice = Run("train", "--method", "qinco2", "--train", data, "--device", "cpu", "--out", model);
        Assert.That(onDevice.ExitCode, Is.EqualTo(2), "refused while parsing, before libtorch is looked for");
        Assert.That(onDevice.Error, Does.Contain("--device: Qinco.TorchSharp trains QINCo1 models"));
    }

    [Test]
    public void MissingFile_Exits1WithTheReason()
    {
        string missing = PathOf("nope.fvecs");
        CliOutcome outcome = Run("train", "--method", "rq", "--train", missing, "--out", PathOf("m.qinco"));
        Assert.That(outcome.ExitCode, Is.EqualTo(1));
        Assert.That(outcome.Error, Does.StartWith("error:").And.Contain("nope.fvecs"));
        Assert.That(outcome.Error, Does.Not.Contain("   at "));

        CliOutcome model = Run("eval", "--model", PathOf("nope.qinco"), "--base", missing);
        Assert.That(model.ExitCode, Is.EqualTo(1));
        Assert.That(model.Error, Does.Contain("nope.qinco"));
    }

    [Test]
    public void CorruptFiles_Exit1WithTheReason()
    {
        var (data, _, _) = WriteData();
        string corrupt = PathOf("corrupt.qinco");
        File.WriteAllBytes(corrupt, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 });
        CliOutcome outcome = Run("eval", "--model", corrupt, "--base", data);
        Assert.That(outcome.ExitCode, Is.EqualTo(1));
        Assert.That(outcome.Error, Does.StartWith("error:").And.Contain("corrupt.qinco"));
        Assert.That(outcome.Error, Does.Not.Contain("   at "));

        string model = TrainRq(data);
        byte[] bytes = File.ReadAllBytes(model);
        File.WriteAllBytes(corrupt, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        CliOutcome truncated = Run("encode", "--model", corrupt, "--input", data, "--out", PathOf("c.npy"));
        Assert.That(truncated.ExitCode, Is.EqualTo(1));
        Assert.That(truncated.Error, Does.StartWith("error:"));

        string badVectors = PathOf("bad.fvecs");
        File.WriteAllBytes(badVectors, new byte[] { 16, 0, 0, 0, 1, 2 });
        CliOutcome vectors = Run("encode", "--model", model, "--input", badVectors, "--out", PathOf("c.npy"));
        Assert.That(vectors.ExitCode, Is.EqualTo(1));
        Assert.That(vectors.Error, Does.StartWith("error:").And.Contain("bad.fvecs"));

        string eightDimensional = PathOf("d8.fvecs");
        VectorFile.WriteFvecs(eightDimensional, SyntheticData.Generate(10, 8, seed: 1));
        CliOutcome wrongDimension = Run("encode", "--model", model, "--input", eightDimensional, "--out", PathOf("c.npy"));
        Assert.That(wrongDimension.ExitCode, Is.EqualTo(1));
        Assert.That(wrongDimension.Error, Does.Contain("dimension 8"));
    }

    [Test]
    public void Demo_Quick_PrintsTheComparisonTable()
    {
        CliOutcome outcome = Run("demo", "--quick", "--threads", "2");
        Assert.That(outcome.ExitCode, Is.EqualTo(0), outcome.Error);
        Assert.That(outcome.Out, Does.Contain("RQ greedy").And.Contain("RQ beam 5").And.Contain("QINCo"));
        Assert.That(outcome.Error, Does.Contain("training"), "progress goes to stderr");
    }
}
