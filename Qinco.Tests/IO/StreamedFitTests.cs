using System;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

/// <summary>
/// Fitting from a streamed source (issue 17, item 3): a <see cref="VectorFileSource"/> reads the rows a fit asks for, and
/// a fit from it equals the in-memory fit of the same rows bit for bit; bad rows are named before any work.
/// </summary>
public sealed class StreamedFitTests : TempFiles
{
    private const int D = 8;
    private static readonly VectorSet s_train = SyntheticData.Generate(700, D, seed: 11, latentDimension: 4);
    private static readonly VectorSet s_validation = SyntheticData.Generate(120, D, seed: 12, latentDimension: 4);

    [TestCase(".fvecs")]
    [TestCase(".npy")]
    [TestCase(".bvecs")]
    public void VectorFileSource_ReadsTheSameRowsAsVectorFileRead(string extension)
    {
        VectorSet data = extension == ".bvecs" ? VectorSet.FromArray([.. s_train.Data.ToArray().Select(v => MathF.Round(Math.Clamp((v * 40) + 128, 0, 255)))], D) : s_train;
        string path = PathOf("rows" + extension);
        VectorFile.Write(path, data);
        var range = new RowRange(100, 650);
        VectorSet expected = VectorFile.Read(path, range);
        using VectorFileSource source = VectorFileSource.Open(path, range);
        Assert.That((source.Count, source.Dimension), Is.EqualTo((550, D)));

        var all = new float[550 * D];
        source.ReadRange(0, 550, all);
        Assert.That(all, Is.EqualTo(expected.Data));
        int[] rows = [549, 0, 17, 17, 300];
        var gathered = new float[rows.Length * D];
        source.ReadRows(rows, gathered);
        Assert.That(gathered, Is.EqualTo(rows.SelectMany(r => expected.Row(r).ToArray()).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.ReadRows([550], new float[D]));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.ReadRange(500, 51, new float[51 * D]));
        Assert.Throws<ArgumentException>(() => source.ReadRows([1, 2], new float[D]));
    }

    [Test]
    public void VectorFileSource_RefusesIntegerFilesAndRangesOutsideTheFile()
    {
        string ints = PathOf("ids.ivecs");
        VectorFile.WriteIvecs(ints, Matrix<int>.FromArray([1, 2, 3, 4], 2));
        Assert.That(() => VectorFileSource.Open(ints), Throws.InstanceOf<VectorFileException>());
        string path = PathOf("rows.fvecs");
        VectorFile.Write(path, s_validation);
        var error = Assert.Throws<VectorFileException>(() => VectorFileSource.Open(path, new RowRange(0, 121)));
        Assert.That(error!.Message, Does.Contain("120 rows"));
    }

    public static readonly object[] Methods =
    [
        new object[] { "rq" },
        new object[] { "qinco" },
        new object[] { "qinco2" },
        new object[] { "ivf-qinco" },
    ];

    [TestCaseSource(nameof(Methods))]
    public void FitFromAFile_EqualsTheInMemoryFit_BitForBit(string method)
    {
        string path = PathOf("train.fvecs");
        VectorFile.Write(path, s_train);
        QuantizerBase inMemory = Build(method), streamed = Build(method);
        inMemory.Fit(s_train, s_validation);
        using (VectorFileSource source = VectorFileSource.Open(path))
        {
            ((IQuantizer)streamed).Fit(source, s_validation); // through the IQuantizer extension
        }
        Assert.That(Saved(streamed), Is.EqualTo(Saved(inMemory)));
    }

    [Test]
    public void FitFromAFileWithoutValidation_ValidatesOnTheFirstTrainingRows_AsInMemory()
    {
        string path = PathOf("train.npy");
        VectorFile.Write(path, s_train);
        QuantizerBase inMemory = Build("qinco"), streamed = Build("qinco");
        inMemory.Fit(s_train);
        using VectorFileSource source = VectorFileSource.Open(path);
        streamed.Fit(source);
        Assert.That(Saved(streamed), Is.EqualTo(Saved(inMemory)));
    }

    [Test]
    public void NonFiniteRowInTheFile_IsNamedBeforeAnyWork()
    {
        float[] values = s_train.Data.ToArray();
        values[(654 * D) + 2] = float.PositiveInfinity;
        string path = PathOf("bad.fvecs");
        VectorFile.Write(path, VectorSet.FromArray(values, D));
        QuantizerBase qinco = Build("qinco");
        int reports = 0;
        using VectorFileSource source = VectorFileSource.Open(path);
        var error = Assert.Throws<ArgumentException>(() => qinco.Fit(source, null, new Progress(() => Interlocked.Increment(ref reports))));
        Assert.That(error!.Message, Does.Contain("Vector 654, component 2"));
        Assert.That(error.ParamName, Is.EqualTo("train"));
        Assert.That(reports, Is.Zero, "no phase started");
        Assert.That(qinco.IsTrained, Is.False);
    }

    [Test]
    public void SourceOfAnotherDimensionOrTooFewRows_IsRefused()
    {
        string path = PathOf("few.fvecs");
        VectorFile.Write(path, s_train.Slice(0, 10));
        using VectorFileSource source = VectorFileSource.Open(path);
        Assert.That(() => Quantizer.Qinco(D + 1).Build().Fit(source), Throws.ArgumentException.With.Message.Contain("dimension 8"));
        Assert.That(() => Build("qinco").Fit(source), Throws.ArgumentException.With.Message.Contain("at least 16 training vectors"));
    }

    [Test]
    public void TrainingSample_IsAllRowsUpToTheCap_ThenADistinctSortedSeededSample()
    {
        Assert.That(VectorSources.SampleRows(500, 500, seed: 1), Is.Null);
        int[] sample = VectorSources.SampleRows(10_000, 600, seed: 1)!;
        Assert.That(sample, Has.Length.EqualTo(600));
        Assert.That(sample, Is.Ordered.And.Unique);
        Assert.That(sample[0], Is.GreaterThanOrEqualTo(0));
        Assert.That(sample[^1], Is.LessThan(10_000));
        Assert.That(sample[^1] - sample[0], Is.GreaterThan(9_000), "spread over the whole range, not its start");
        Assert.That(VectorSources.SampleRows(10_000, 600, seed: 1), Is.EqualTo(sample));
        Assert.That(VectorSources.SampleRows(10_000, 600, seed: 2), Is.Not.EqualTo(sample));
    }

    private static QuantizerBase Build(string method) => method switch
    {
        "rq" => Quantizer.Residual(D).WithSteps(3).WithCodebookBits(4).WithBeamWidth(2).WithThreads(2).Build(),
        "qinco" => Quantizer.Qinco(D).WithSteps(3).WithCodebookBits(4).WithHiddenSize(16).WithThreads(2).WithTraining(t => t.MaxEpochs(2).BatchSize(128).Workers(2)).Build(),
        "qinco2" => Quantizer.Qinco2(D).WithSteps(3).WithCodebookBits(4).WithEmbeddingSize(6).WithHiddenSize(16).WithEncoding(2, 4).WithThreads(2).WithTraining(t => t.MaxEpochs(2).BatchSize(128).Workers(2)).Build(),
        _ => Quantizer.IvfQinco(D).WithLists(16).WithSteps(3).WithCodebookBits(4).WithHiddenSize(16).WithThreads(2).WithTraining(t => t.MaxEpochs(2).BatchSize(128).Workers(2)).Build(),
    };

    private static byte[] Saved(IQuantizer quantizer)
    {
        using var stream = new MemoryStream();
        quantizer.Save(stream);
        return stream.ToArray();
    }

    private sealed class Progress(Action report) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => report();
    }
}
