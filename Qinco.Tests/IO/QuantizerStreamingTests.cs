using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

/// <summary>Chunked encode/decode (issue 17, item 4): the same results as in memory, progress, cancellation, atomic files.</summary>
public sealed class QuantizerStreamingTests : TempFiles
{
    private const int D = 8;
    private static readonly VectorSet s_train = SyntheticData.Generate(600, D, seed: 1, latentDimension: 4);
    private static readonly VectorSet s_data = SyntheticData.Generate(103, D, seed: 2, latentDimension: 4);
    private static readonly Lazy<IQuantizer> s_rq = new(() =>
    {
        var rq = Quantizer.Residual(D).WithSteps(3).WithCodebookBits(4).WithBeamWidth(2).WithThreads(2).Build();
        rq.Fit(s_train);
        return rq;
    });

    [TestCase(".fvecs", 7)]
    [TestCase(".npy", 200)]
    public void EncodeFileAndDecodeFile_EqualTheInMemoryResults(string extension, int chunk)
    {
        IQuantizer rq = s_rq.Value;
        string input = PathOf("data.fvecs"), codesPath = PathOf("codes.npy"), output = PathOf("decoded" + extension);
        VectorFile.Write(input, s_data);

        Assert.That(rq.EncodeFile(input, codesPath, new RowRange(5, 100), chunkVectors: chunk), Is.EqualTo(95));
        CodeSet expected = rq.Encode(VectorFile.Read(input, new RowRange(5, 100)));
        CodeSet streamed = VectorFile.ReadCodes(codesPath, rq.Layout);
        Assert.That(streamed.Data, Is.EqualTo(expected.Data));

        Assert.That(rq.DecodeFile(codesPath, output, steps: 2, chunkVectors: chunk), Is.EqualTo(95));
        Assert.That(VectorFile.Read(output).Data, Is.EqualTo(rq.Decode(expected, 2).Data));
    }

    [Test]
    public void EncodeAndDecodeWithProgress_ReportChunksUpToTheTotal_AndGiveTheSameResult()
    {
        IQuantizer rq = s_rq.Value;
        VectorSet large = SyntheticData.Generate(QuantizerStreaming.DefaultChunkVectors + 500, D, seed: 3, latentDimension: 4);
        var reports = new List<CodingProgress>();
        CodeSet codes = rq.Encode(large, new Recorder(reports.Add));
        Assert.That(codes.Data, Is.EqualTo(rq.Encode(large).Data));
        Assert.That(reports, Is.EqualTo(new[] { new CodingProgress(QuantizerStreaming.DefaultChunkVectors, large.Count), new CodingProgress(large.Count, large.Count) }));

        reports.Clear();
        Assert.That(rq.Decode(codes, null, new Recorder(reports.Add)).Data, Is.EqualTo(rq.Decode(codes).Data));
        Assert.That(reports[^1], Is.EqualTo(new CodingProgress(large.Count, large.Count)));
    }

    [Test]
    public void Cancellation_StopsBetweenChunks_AndLeavesNoOutputFile()
    {
        IQuantizer rq = s_rq.Value;
        string input = PathOf("data.fvecs"), codesPath = PathOf("codes.npy");
        VectorFile.Write(input, s_data);
        using var cancel = new CancellationTokenSource();
        var reports = new List<CodingProgress>();
        Assert.Throws<OperationCanceledException>(() => rq.EncodeFile(input, codesPath, progress: new Recorder(p => { reports.Add(p); cancel.Cancel(); }), cancellationToken: cancel.Token, chunkVectors: 10));
        Assert.That(reports, Has.Count.EqualTo(1), "stopped before the second chunk");
        Assert.That(System.IO.Directory.GetFiles(Directory).Select(Path.GetFileName), Is.EquivalentTo(new[] { "data.fvecs" }), "neither the codes nor a temporary file are left");
        Assert.Throws<OperationCanceledException>(() => rq.Encode(s_data, null, cancel.Token));
    }

    [Test]
    public void BadInput_IsNamedAndLeavesNoOutputFile()
    {
        IQuantizer rq = s_rq.Value;
        string input = PathOf("nan.fvecs"), codesPath = PathOf("codes.npy");
        float[] values = (float[])s_data.Data.Clone();
        values[(50 * D) + 3] = float.NaN;
        VectorFile.Write(input, VectorSet.FromArray(values, D));
        var error = Assert.Throws<ArgumentException>(() => rq.EncodeFile(input, codesPath, chunkVectors: 20));
        Assert.That(error!.Message, Does.Contain("nan.fvecs").And.Contain("rows 40..59"));
        Assert.That(File.Exists(codesPath), Is.False);

        VectorFile.Write(PathOf("wide.fvecs"), SyntheticData.Generate(10, D + 1, seed: 4));
        Assert.Throws<ArgumentException>(() => rq.EncodeFile(PathOf("wide.fvecs"), codesPath));
        Assert.Throws<FileNotFoundException>(() => rq.EncodeFile(PathOf("data-absent.fvecs"), codesPath));
        Assert.Throws<ArgumentException>(() => rq.DecodeFile(codesPath, PathOf("out.bvecs")));
    }

    private sealed class Recorder(Action<CodingProgress> report) : IProgress<CodingProgress>
    {
        public void Report(CodingProgress value) => report(value);
    }
}
