using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Interop;
using Qinco.Tests.IO;

namespace Qinco.Tests.Interop;

/// <summary>
/// Models of the PyTorch fixtures import as quantizers that decode the fixture's codes to the PyTorch decoder's
/// outputs (within 1e-5 relative) and encode its vectors to the same codes with QINCo1's greedy search; export writes
/// them back in the reference's key names.
/// </summary>
public sealed class PyTorchImportTests : TempFiles
{
    [TestCase("qinco1", QuantizerKind.Qinco, 3)]
    [TestCase("ivf_qinco1", QuantizerKind.IvfQinco, 2)]
    public void Imported_model_decodes_and_encodes_as_pytorch(string fixture, QuantizerKind kind, int steps)
    {
        IQuantizer quantizer = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf(fixture + ".pt"), maxDegreeOfParallelism: 1);
        (VectorSet x, Matrix<long> codes, VectorSet expected) = PyTorchFixtures.Expected(fixture);
        Assert.Multiple(() =>
        {
            Assert.That(quantizer.Kind, Is.EqualTo(kind));
            Assert.That(quantizer.Steps, Is.EqualTo(steps));
            Assert.That(quantizer.Search, Is.EqualTo(EncoderSearch.Greedy));
        });

        PyTorchFixtures.AssertDecodesAndEncodesAsPyTorch(quantizer, fixture, x, codes, expected);
    }

    [Test]
    public void Imported_model_saves_and_loads_through_the_model_file()
    {
        IQuantizer imported = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("ivf_qinco1.pt"));
        string path = PathOf("ivf.qinco");
        imported.Save(path);
        IQuantizer loaded = Quantizer.Load(path);
        (_, Matrix<long> codes, _) = PyTorchFixtures.Expected("ivf_qinco1");
        CodeSet packed = PyTorchFixtures.Pack(codes, imported.Layout);
        Assert.Multiple(() =>
        {
            Assert.That(loaded, Is.InstanceOf<IvfQincoQuantizer>());
            Assert.That(((IvfQincoQuantizer)loaded).Lists, Is.EqualTo(10));
            Assert.That(((IvfQincoQuantizer)loaded).Scale, Is.EqualTo(12f));
            Assert.That(loaded.Decode(packed).Data, Is.EqualTo(imported.Decode(packed).Data));
        });
    }

    [Test]
    public void Checkpoint_holds_the_reference_keys_and_attributes()
    {
        ReferenceCheckpoint checkpoint = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("qinco1.pt")).ToReferenceCheckpoint();
        Assert.Multiple(() =>
        {
            Assert.That(checkpoint.Format, Is.EqualTo(ReferenceFormat.Qinco1));
            Assert.That(checkpoint.Hyperparameters, Is.EqualTo(new ReferenceHyperparameters(8, 16, 2, 3, 16, 37.5)));
            Assert.That(checkpoint.Tensors.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[]
            {
                "codebook0.weight",
                "step1.MLPconcat.bias", "step1.MLPconcat.weight", "step1.codebook.weight",
                "step1.residual_block0.0.weight", "step1.residual_block0.2.weight", "step1.residual_block1.0.weight", "step1.residual_block1.2.weight",
                "step2.MLPconcat.bias", "step2.MLPconcat.weight", "step2.codebook.weight",
                "step2.residual_block0.0.weight", "step2.residual_block0.2.weight", "step2.residual_block1.0.weight", "step2.residual_block1.2.weight",
            }));
            Assert.That(checkpoint.Tensors["step2.MLPconcat.weight"].Shape, Is.EqualTo(new[] { 8, 16 }));
            Assert.That(checkpoint.Tensors["step1.residual_block1.0.weight"].Shape, Is.EqualTo(new[] { 16, 8 }));
        });
    }

    [TestCase("qinco_lr.pt", "model_qinco.QINCoLR", "QINCo-LR")]
    [TestCase("pq_qinco.pt", "model_qinco.PQ_QINCo", "PQ-QINCo")]
    [TestCase("qinco1_state_dict.pt", "bare state dict", "db_scale")]
    [TestCase("dtypes.pt", "a dict with the keys", "bare state dict")]
    public void Other_models_are_refused_by_name(string file, string name, string why)
    {
        string path = PyTorchFixtures.PathOf(file);
        var ex = Assert.Throws<ModelFormatException>(() => Quantizer.ImportPyTorch(path))!;
        Assert.That(ex.Message, Does.StartWith(path).And.Contain(name).And.Contain(why));
    }

    private static ReferenceCheckpoint Qinco1() => PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("qinco1.pt")).ToReferenceCheckpoint();

    private static ReferenceCheckpoint With(ReferenceCheckpoint checkpoint, Action<Dictionary<string, ReferenceTensor>> edit, ReferenceHyperparameters? hyper = null) =>
        PyTorchFixtures.Edited(checkpoint, edit, hyper);

    [Test]
    public void Missing_extra_and_misshaped_tensors_are_named()
    {
        ReferenceCheckpoint good = Qinco1();
        Assert.Multiple(() =>
        {
            Assert.That(() => Quantizer.FromReference(With(good, t => t.Remove("step2.residual_block1.2.weight"))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("edited.pt").And.Message.Contains("lacks the tensor 'step2.residual_block1.2.weight' [8, 16]"));
            Assert.That(() => Quantizer.FromReference(With(good, t => t["step3.codebook.weight"] = new ReferenceTensor([16, 8], new float[128]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("holds the tensor 'step3.codebook.weight'"));
            Assert.That(() => Quantizer.FromReference(With(good, t => t["step1.MLPconcat.0.weight"] = new ReferenceTensor([16, 16], new float[256]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'step1.MLPconcat.0.weight'").And.Message.Contains("QINCo-LR"));
            Assert.That(() => Quantizer.FromReference(With(good, t => t["step1.MLPconcat.bias"] = new ReferenceTensor([1, 8], new float[8]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'step1.MLPconcat.bias' of shape [1, 8]").And.Message.Contains("needs [8]"));
            Assert.That(() => Quantizer.FromReference(With(good, t => t["codebook0.weight"] = new ReferenceTensor([16, 8], [float.NaN, .. new float[127]]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("NaN at flat index 0 of tensor 'codebook0.weight'"));
            Assert.That(() => Quantizer.FromReference(With(good, _ => { }, good.Hyperparameters with { CodebookSize = 12 })),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("K = 12").And.Message.Contains("power of two"));
            Assert.That(() => Quantizer.FromReference(With(good, _ => { }, good.Hyperparameters with { Scale = -1 })),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("db_scale = -1"));
            Assert.That(() => Quantizer.FromReference(With(good, _ => { }, good.Hyperparameters with { ResidualBlocks = 1 })),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'step1.residual_block1.0.weight'"));
        });
    }

    [Test]
    public void Export_reimports_to_the_same_quantizer()
    {
        foreach (string fixture in new[] { "qinco1", "ivf_qinco1" })
        {
            IQuantizer imported = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf(fixture + ".pt"));
            ReferenceCheckpoint original = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf(fixture + ".pt")).ToReferenceCheckpoint();
            ReferenceCheckpoint exported = ReferenceCheckpoint.FromQuantizer(imported);
            string path = PathOf(fixture + ".safetensors");
            exported.WriteSafetensors(path);
            ReferenceCheckpoint reread = ReferenceCheckpoint.ReadSafetensors(path);
            Assert.Multiple(() =>
            {
                Assert.That(reread.Format, Is.EqualTo(original.Format));
                Assert.That(reread.Hyperparameters with { Qinco1Search = null, ProbedLists = null }, Is.EqualTo(original.Hyperparameters));
                Assert.That(reread.Hyperparameters.Qinco1Search, Is.EqualTo(EncoderSearch.Greedy), "the import's greedy search travels with the export");
                Assert.That(reread.Tensors.Keys.Order(StringComparer.Ordinal), Is.EqualTo(original.Tensors.Keys.Order(StringComparer.Ordinal)));
                foreach ((string key, ReferenceTensor tensor) in original.Tensors)
                {
                    Assert.That(reread.Tensors[key].Shape, Is.EqualTo(tensor.Shape), key);
                    Assert.That(reread.Tensors[key].Values.ToArray(), Is.EqualTo(tensor.Values.ToArray()), key);
                }
            });
            (_, Matrix<long> codes, _) = PyTorchFixtures.Expected(fixture);
            CodeSet packed = PyTorchFixtures.Pack(codes, imported.Layout);
            Assert.That(Quantizer.FromReference(reread).Decode(packed).Data, Is.EqualTo(imported.Decode(packed).Data));
        }
    }

    [Test]
    public void Export_keeps_this_librarys_search_and_probed_lists_through_import()
    {
        var search = new EncoderSearch(4, 8);
        IQuantizer qinco = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("qinco1.pt")).WithSearch(search);
        IQuantizer ivf = ((IvfQincoQuantizer)Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("ivf_qinco1.pt")).WithSearch(search)).WithProbedLists(3);
        foreach (IQuantizer exported in new[] { qinco, ivf })
        {
            string path = PathOf(exported.Kind + ".safetensors");
            ReferenceCheckpoint.FromQuantizer(exported).WriteSafetensors(path);
            IQuantizer reimported = Quantizer.FromReference(ReferenceCheckpoint.ReadSafetensors(path));
            VectorSet vectors = SyntheticData.Generate(40, exported.Dimension, seed: 3);
            Assert.Multiple(() =>
            {
                Assert.That(((QincoQuantizerBase)reimported).Search, Is.EqualTo(search), exported.Kind.ToString());
                Assert.That(reimported.Encode(vectors).Data, Is.EqualTo(exported.Encode(vectors).Data), exported.Kind.ToString());
            });
        }
        Assert.That(((IvfQincoQuantizer)Quantizer.FromReference(ReferenceCheckpoint.ReadSafetensors(PathOf(QuantizerKind.IvfQinco + ".safetensors")))).Options.ProbedLists, Is.EqualTo(3));

        ReferenceCheckpoint qinco2 = ReferenceCheckpoint.FromQuantizer(Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("qinco2_proj.pt")));
        var forged = new ReferenceCheckpoint(qinco2.Format, qinco2.Hyperparameters with { Qinco1Search = search }, qinco2.Tensors, "forged");
        var wide = new ReferenceCheckpoint(ReferenceFormat.Qinco1, ReferenceCheckpoint.FromQuantizer(qinco).Hyperparameters with { Qinco1Search = new EncoderSearch(100_000) }, ReferenceCheckpoint.FromQuantizer(qinco).Tensors, "wide");
        var notIvf = new ReferenceCheckpoint(ReferenceFormat.Qinco1, ReferenceCheckpoint.FromQuantizer(qinco).Hyperparameters with { ProbedLists = 2 }, ReferenceCheckpoint.FromQuantizer(qinco).Tensors, "flat");
        Assert.Multiple(() =>
        {
            Assert.That(() => Quantizer.FromReference(forged), Throws.TypeOf<ModelFormatException>().With.Message.Contains("QINCo2 keeps its search in B and A"));
            Assert.That(() => Quantizer.FromReference(wide), Throws.TypeOf<ModelFormatException>().With.Message.Contains("qinco_net_beam_width = 100000"));
            Assert.That(() => Quantizer.FromReference(notIvf), Throws.TypeOf<ModelFormatException>().With.Message.Contains("only IVF checkpoints have lists"));
        });
    }

    [Test]
    public void Export_of_a_quantizer_without_a_reference_form_is_refused()
    {
        IQuantizer rq = Quantizer.Residual(4).WithSteps(2).WithCodebookBits(2).Build();
        rq.Fit(SyntheticData.Generate(64, 4, seed: 1));
        Assert.Multiple(() =>
        {
            Assert.That(() => ReferenceCheckpoint.FromQuantizer(rq), Throws.ArgumentException.With.Message.Contains("Residual"));
            Assert.That(() => ReferenceCheckpoint.FromQuantizer(Quantizer.Qinco(4).Build()), Throws.InvalidOperationException);
        });
    }

    [Test]
    public void Corrupt_safetensors_name_the_file()
    {
        string path = PathOf("model.safetensors");
        ReferenceCheckpoint.FromQuantizer(Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("qinco1.pt"))).WriteSafetensors(path);
        byte[] bytes = File.ReadAllBytes(path);
        string truncated = PathOf("truncated.safetensors"), header = PathOf("header.safetensors");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 100)]);
        byte[] huge = (byte[])bytes.Clone();
        BitConverter.GetBytes(long.MaxValue).CopyTo(huge, 0);
        File.WriteAllBytes(header, huge);
        Assert.Multiple(() =>
        {
            Assert.That(() => ReferenceCheckpoint.ReadSafetensors(truncated), Throws.TypeOf<ModelFormatException>().With.Message.StartsWith(truncated).And.Message.Contains("outside the"));
            Assert.That(() => ReferenceCheckpoint.ReadSafetensors(header), Throws.TypeOf<ModelFormatException>().With.Message.StartsWith(header).And.Message.Contains("corrupt header"));
        });
    }

    /// <summary>The exports (QINCo1 and QINCo2) load into the independent PyTorch modules with load_state_dict (strict but for QINCo2's training buffers) and decode the fixtures' codes as the fixtures' models do (needs /usr/bin/python3 with python3-torch).</summary>
    [Test]
    public void Export_loads_in_pytorch()
    {
        string? script = PyTorchFixtures.Script();
        if (!File.Exists("/usr/bin/python3") || script is null || Run("/usr/bin/python3", "-c \"import torch, numpy\"", out _) != 0)
        {
            Assert.Ignore("Needs /usr/bin/python3 with python3-torch and numpy, and tools/pytorch/make_fixtures.py.");
        }
        var arguments = new List<string> { $"\"{script}\"", "--check-export" };
        foreach (string fixture in new[] { "qinco1", "ivf_qinco1", "qinco2_proj", "qinco2_greedy", "ivf_qinco2", "qinco2_qinco1_mode" })
        {
            string path = PathOf(fixture + ".safetensors");
            ReferenceCheckpoint.FromQuantizer(Quantizer.ImportPyTorch(PyTorchFixtures.PathOf(fixture + ".pt"))).WriteSafetensors(path);
            arguments.Add($"\"{path}\"");
            arguments.Add($"\"{PyTorchFixtures.PathOf(fixture + ".npz")}\"");
        }
        int exit = Run("/usr/bin/python3", string.Join(' ', arguments), out string output);
        TestContext.Out.WriteLine(output);
        Assert.That(exit, Is.EqualTo(0), output);
    }

    private static int Run(string program, string arguments, out string output)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using Process process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        output = stdout + stderr;
        return process.ExitCode;
    }
}
