using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Formats;

/// <summary>
/// Model files that are forged, corrupt or hostile (shared/cases/model-*, and mutations of valid files) give a
/// <see cref="ModelFormatException"/> naming the problem, or a model that works: never another exception, a hang, an
/// allocation beyond what the file justifies, or a model that decodes to NaN/Inf.
/// </summary>
[NonParallelizable]
public sealed class ModelFileRobustnessTests
{
    private static readonly Lazy<Dictionary<string, byte[]>> s_models = new(TrainModels);

    [TestCase("model-nonfinite/nan-codebook.qinco", "codebooks")]
    [TestCase("model-nonfinite/qinco-nan-codebook0.qinco", "codebook0")]
    [TestCase("model-nonfinite/qinco-scale-1e300.qinco", "scale")]
    [TestCase("model-nonfinite/qinco-scale-1e-300.qinco", "scale")]
    [TestCase("model-nonfinite/qinco-weights-1e18.qinco", "'step")]
    [TestCase("model-oversized/qinco-huge-d1024-M256-b16-L64-h65536.qinco", "codebook0")]
    public void SharedCases_AreRefusedNamingTheFileAndTheField(string file, string field)
    {
        string path = TestData.RequireCase(file);
        var watch = Stopwatch.StartNew();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.Throws<ModelFormatException>(() => Quantizer.Load(path));
        Assert.That(ex!.Message, Does.Contain(Path.GetFileName(path)).And.Contain(field));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan((16 * new FileInfo(path).Length) + (4 << 20)), "allocation beyond what the file justifies");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void SharedCases_TheGoodModelLoads()
    {
        IQuantizer good = Quantizer.Load(TestData.RequireCase("model-nonfinite/good.qinco"));
        Assert.That(good.Decode(new byte[good.CodeSize * 3]).Data, Is.All.Matches<float>(float.IsFinite));
    }

    [Test]
    public void TrailingBytesAfterThePayload_AreAnError()
    {
        byte[] bytes = s_models.Value["rq"];
        var ex = Assert.Throws<ModelFormatException>(() => Quantizer.Load(new MemoryStream([.. bytes, 0, 1, 2])));
        Assert.That(ex!.Message, Does.Contain("bytes follow the"));
    }

    [TestCase("rq")]
    [TestCase("qinco")]
    [TestCase("ivf-qinco")]
    public void MutatedFiles_GiveTheFormatExceptionOrAWorkingModel(string kind)
    {
        byte[] original = s_models.Value[kind];
        var random = new Random(kind.Length * 977);
        int refused = 0, loaded = 0;
        for (int trial = 0; trial < 250; trial++)
        {
            (byte[] mutated, string what) = FileMutations.Mutate(original, random);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            try
            {
                IQuantizer q = Quantizer.Load(new MemoryStream(mutated));
                loaded++;
                var codes = new byte[q.CodeSize * 4];
                random.NextBytes(codes);
                try
                {
                    VectorSet decoded = q.Decode(codes);
                    Assert.That(decoded.Data, Is.All.Matches<float>(float.IsFinite), $"{what}: a loaded model decodes to NaN/Inf");
                }
                catch (ArgumentException)
                {
                    // random codes may hold padding bits or list numbers out of range: refused, as they must be
                }
            }
            catch (ModelFormatException)
            {
                refused++;
            }
            catch (Exception ex) when (ex is not AssertionException)
            {
                Assert.Fail($"{what}: {ex.GetType().Name}: {ex.Message}");
            }
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), what);
            Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan((16L * original.Length) + (8 << 20)), $"{what}: allocation beyond what the file justifies");
        }
        Assert.That(refused, Is.GreaterThan(100), $"{loaded} mutated files loaded");
    }

    private static Dictionary<string, byte[]> TrainModels()
    {
        VectorSet train = SyntheticData.Generate(600, 8, seed: 4);
        var models = new Dictionary<string, byte[]>();
        void Add(string name, IQuantizer q)
        {
            q.Fit(train);
            var stream = new MemoryStream();
            q.Save(stream);
            models[name] = stream.ToArray();
        }
        Add("rq", Quantizer.Residual(8).WithSteps(3).WithCodebookBits(3).WithThreads(1).Build());
        Add("qinco", Quantizer.Qinco(8).WithSteps(3).WithCodebookBits(3).WithResidualBlocks(1).WithHiddenSize(4).WithThreads(1)
            .WithTraining(t => t.MaxEpochs(1).BatchSize(200).Workers(1)).Build());
        Add("ivf-qinco", Quantizer.IvfQinco(8).WithLists(5).WithSteps(2).WithCodebookBits(3).WithResidualBlocks(1).WithHiddenSize(4).WithThreads(1)
            .WithTraining(t => t.MaxEpochs(1).BatchSize(200).Workers(1)).Build());
        return models;
    }
}
