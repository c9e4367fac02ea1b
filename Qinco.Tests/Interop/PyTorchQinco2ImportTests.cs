using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Interop;
using Qinco.Tests.IO;

namespace Qinco.Tests.Interop;

/// <summary>
/// QINCo2 dict checkpoints (ALGORITHM.md §7.2) import as QINCo2 quantizers that decode the fixture's codes to the
/// PyTorch decoder's outputs (within 1e-5 relative) and encode its vectors to the codes of the §5.4 encoder (pre-selection
/// of A candidates, beam of B) written by tools/pytorch/model_qinco2.py; errors name the key; export writes them back.
/// </summary>
public sealed class PyTorchQinco2ImportTests : TempFiles
{
    [TestCase("qinco2_proj", QuantizerKind.Qinco, QincoVersion.Qinco2, 3, 3, 4)]
    [TestCase("qinco2_greedy", QuantizerKind.Qinco, QincoVersion.Qinco2, 3, 1, 0)]
    [TestCase("ivf_qinco2", QuantizerKind.IvfQinco, QincoVersion.Qinco2, 2, 2, 4)]
    [TestCase("qinco2_qinco1_mode", QuantizerKind.Qinco, QincoVersion.Qinco1, 3, 2, 0)]
    public void Imported_model_decodes_and_encodes_as_pytorch(string fixture, QuantizerKind kind, QincoVersion version, int steps, int beam, int candidates)
    {
        IQuantizer quantizer = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf(fixture + ".pt"), maxDegreeOfParallelism: 1);
        (VectorSet x, Matrix<long> codes, VectorSet expected) = PyTorchFixtures.Expected(fixture);
        QincoOptions options = quantizer is IvfQincoQuantizer ivf ? ivf.Options : ((QincoQuantizer)quantizer).Options;
        Assert.Multiple(() =>
        {
            Assert.That(quantizer.Kind, Is.EqualTo(kind));
            Assert.That(options.Version, Is.EqualTo(version));
            Assert.That(quantizer.Steps, Is.EqualTo(steps));
            Assert.That(quantizer.Search, Is.EqualTo(new EncoderSearch(beam, candidates)));
            Assert.That(((QincoQuantizerBase)quantizer).Scale, Is.EqualTo(3f));
        });
        PyTorchFixtures.AssertDecodesAndEncodesAsPyTorch(quantizer, fixture, x, codes, expected);
    }

    [Test]
    public void Checkpoint_holds_the_parameters_and_the_reference_keys()
    {
        ReferenceCheckpoint proj = Load("qinco2_proj"), ivf = Load("ivf_qinco2"), greedy = Load("qinco2_greedy");
        Assert.Multiple(() =>
        {
            Assert.That(proj.Format, Is.EqualTo(ReferenceFormat.Qinco2));
            Assert.That(proj.Hyperparameters, Is.EqualTo(new ReferenceHyperparameters(8, 16, 2, 3, 16, 3.0) { Embedding = 12, Candidates = 4, BeamWidth = 3 }));
            Assert.That(ivf.Format, Is.EqualTo(ReferenceFormat.IvfQinco2));
            Assert.That(ivf.Hyperparameters, Is.EqualTo(new ReferenceHyperparameters(8, 16, 1, 2, 16, 3.0, 10) { Candidates = 4, BeamWidth = 2 }));
            Assert.That(greedy.Hyperparameters, Is.EqualTo(new ReferenceHyperparameters(8, 16, 1, 3, 16, 3.0)));
            Assert.That(Load("qinco2_qinco1_mode").Hyperparameters.Qinco1Mode, Is.True);
            Assert.That(ivf.Tensors.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[]
            {
                "data_mean", "data_std",
                "steps.0.ivf_centroids.weight",
                "steps.1.codebook.weight", "steps.1.concat.mlp.bias", "steps.1.concat.mlp.weight",
                "steps.1.residual_blocks.0.down_proj.weight", "steps.1.residual_blocks.0.up_proj.weight",
                "steps.1.substep.codebook.weight", "steps.1.xtarget_mean", "steps.1.xtarget_var",
                "steps.2.codebook.weight", "steps.2.concat.mlp.bias", "steps.2.concat.mlp.weight",
                "steps.2.residual_blocks.0.down_proj.weight", "steps.2.residual_blocks.0.up_proj.weight",
                "steps.2.substep.codebook.weight", "steps.2.xtarget_mean", "steps.2.xtarget_var",
            }));
            Assert.That(proj.Tensors["steps.2.concat.mlp.weight"].Shape, Is.EqualTo(new[] { 12, 20 }));
            Assert.That(proj.Tensors["steps.1.in_proj.weight"].Shape, Is.EqualTo(new[] { 12, 8 }));
            Assert.That(proj.Tensors["data_std"].Shape, Is.Empty);
        });
    }

    [Test]
    public void The_first_qinco2_checkpoint_fixture_imports_too()
    {
        // qinco2.pt (the reader's fixture, random weights, no xtarget buffers): D = 8, K = 16, M = 2, L = 1, A = 4, B = 2.
        IQuantizer quantizer = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("qinco2.pt"));
        Assert.Multiple(() =>
        {
            Assert.That(((QincoQuantizer)quantizer).Options.Version, Is.EqualTo(QincoVersion.Qinco2));
            Assert.That(quantizer.Search, Is.EqualTo(new EncoderSearch(2, 4)));
            Assert.That(((QincoQuantizer)quantizer).Scale, Is.EqualTo(2.5f));
        });
    }

    [Test]
    public void Training_buffers_may_be_absent_and_are_not_imported()
    {
        ReferenceCheckpoint full = Load("qinco2_proj");
        ReferenceCheckpoint bare = With(full, t =>
        {
            foreach (string key in t.Keys.Where(k => k.Contains(".xtarget_", StringComparison.Ordinal)).ToList())
            {
                t.Remove(key);
            }
        });
        (_, Matrix<long> codes, _) = PyTorchFixtures.Expected("qinco2_proj");
        IQuantizer a = Quantizer.FromReference(full), b = Quantizer.FromReference(bare);
        CodeSet packed = PyTorchFixtures.Pack(codes, a.Layout);
        Assert.That(b.Decode(packed).Data, Is.EqualTo(a.Decode(packed).Data));
    }

    [Test]
    public void Missing_extra_and_misshaped_tensors_are_named()
    {
        ReferenceCheckpoint proj = Load("qinco2_proj"), greedy = Load("qinco2_greedy");
        ReferenceHyperparameters h = proj.Hyperparameters;
        Assert.Multiple(() =>
        {
            Assert.That(() => Quantizer.FromReference(With(proj, t => t.Remove("steps.2.residual_blocks.1.down_proj.weight"))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("edited.pt").And.Message.Contains("lacks the tensor 'steps.2.residual_blocks.1.down_proj.weight' [12, 16]"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t.Remove("data_mean"))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("lacks the tensor 'data_mean' [8]"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t["steps.3.codebook.weight"] = new ReferenceTensor([16, 8], new float[128]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("holds the tensor 'steps.3.codebook.weight'"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t["steps.1.in_proj.weight"] = new ReferenceTensor([8, 12], new float[96]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'steps.1.in_proj.weight' of shape [8, 12]").And.Message.Contains("needs [12, 8]"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t["data_std"] = new ReferenceTensor([1], [3f]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'data_std' of shape [1]").And.Message.Contains("needs []"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t["data_std"] = new ReferenceTensor([], [-3f]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'data_std' = -3"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t["steps.1.xtarget_var"] = new ReferenceTensor([4], new float[4]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'steps.1.xtarget_var' of shape [4]"));
            Assert.That(() => Quantizer.FromReference(With(proj, t => t["steps.1.residual_blocks.0.in_proj.weight"] = new ReferenceTensor([16, 12], new float[192]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'steps.1.residual_blocks.0.in_proj.weight'").And.Message.Contains("older internal QINCo2 layout"));
            Assert.That(() => Quantizer.FromReference(With(greedy, t => t["steps.1.substep.codebook.weight"] = new ReferenceTensor([16, 8], new float[128]))),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'steps.1.substep.codebook.weight'").And.Message.Contains("only when A > 0"));
            Assert.That(() => Quantizer.FromReference(With(proj, _ => { }, h with { Embedding = null })),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("'steps.1.concat.mlp.weight' of shape [12, 20]").And.Message.Contains("de=8"));
            Assert.That(() => Quantizer.FromReference(With(proj, _ => { }, h with { BeamWidth = 0 })),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("B = 0"));
            Assert.That(() => Quantizer.FromReference(With(proj, _ => { }, h with { Qinco1Mode = true })),
                Throws.TypeOf<ModelFormatException>().With.Message.Contains("qinco1_mode").And.Message.Contains("A = 4"));
        });
    }

    [Test]
    public void Parameters_missing_from_the_dict_are_named()
    {
        var ex = Assert.Throws<ModelFormatException>(() => Qinco2Checkpoint(parameters => parameters.Remove("dh")))!;
        Assert.That(ex.Message, Does.StartWith("edited.pt").And.Contain("lack 'dh'"));
        ex = Assert.Throws<ModelFormatException>(() => Qinco2Checkpoint(parameters => parameters["K"] = "sixteen"))!;
        Assert.That(ex.Message, Does.Contain("the parameter 'K' is a String, not a number"));
    }

    [Test]
    public void A_model_without_substep_codebooks_preselects_with_its_base_codebook()
    {
        var quantizer = (QincoQuantizer)Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("qinco2_greedy.pt"));
        (VectorSet x, _, _) = PyTorchFixtures.Expected("qinco2_greedy");
        // A = K pre-selects every codeword: the same codes as A = 0.
        Assert.That(quantizer.WithEncoding(1, 16).Encode(x).Data, Is.EqualTo(quantizer.Encode(x).Data));
        ReferenceCheckpoint exported = ReferenceCheckpoint.FromQuantizer(quantizer);
        Assert.That(exported.Tensors.Keys.Where(k => k.Contains("substep", StringComparison.Ordinal)), Is.Empty);
    }

    [TestCase("qinco2_proj")]
    [TestCase("ivf_qinco2")]
    [TestCase("qinco2_greedy")]
    public void Export_reimports_to_the_same_quantizer(string fixture)
    {
        IQuantizer imported = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf(fixture + ".pt"));
        ReferenceCheckpoint original = Load(fixture);
        string path = PathOf(fixture + ".safetensors");
        ReferenceCheckpoint.FromQuantizer(imported).WriteSafetensors(path);
        ReferenceCheckpoint reread = ReferenceCheckpoint.ReadSafetensors(path);
        Assert.Multiple(() =>
        {
            Assert.That(reread.Format, Is.EqualTo(original.Format));
            Assert.That(reread.Hyperparameters with { ProbedLists = null }, Is.EqualTo(original.Hyperparameters));
            Assert.That(reread.Hyperparameters.ProbedLists, Is.EqualTo(original.Hyperparameters.Lists is null ? null : 1), "an IVF model's probed lists travel with the export");
            Assert.That(reread.Tensors.Keys.Order(StringComparer.Ordinal),
                Is.EqualTo(original.Tensors.Keys.Where(k => !k.Contains(".xtarget_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)));
            foreach ((string key, ReferenceTensor tensor) in reread.Tensors)
            {
                Assert.That(tensor.Shape, Is.EqualTo(original.Tensors[key].Shape), key);
                Assert.That(tensor.Values.ToArray(), Is.EqualTo(original.Tensors[key].Values.ToArray()), key);
            }
        });
        (_, Matrix<long> codes, _) = PyTorchFixtures.Expected(fixture);
        CodeSet packed = PyTorchFixtures.Pack(codes, imported.Layout);
        Assert.That(Quantizer.FromReference(reread).Decode(packed).Data, Is.EqualTo(imported.Decode(packed).Data));
    }

    /// <summary>A QINCo2 quantizer of this library (projections, pre-selection) exports and imports back to the same codes and reconstructions; with A = 0 its pre-selection codebooks are left out.</summary>
    [TestCase(4)]
    [TestCase(0)]
    public void Export_of_a_library_qinco2_model_reimports(int candidates)
    {
        var quantizer = new QincoQuantizer(QincoOptions.Qinco2(8, Qinco2Preset.S) with
        {
            Steps = 3, CodebookBits = 4, EmbeddingSize = 12, ResidualBlocks = 1, HiddenSize = 8, Search = new EncoderSearch(2, candidates),
        });
        VectorSet data = SyntheticData.Generate(256, 8, seed: 3);
        quantizer.FitInitializationOnly(data);
        string path = PathOf("library.safetensors");
        ReferenceCheckpoint.FromQuantizer(quantizer).WriteSafetensors(path);
        ReferenceCheckpoint reread = ReferenceCheckpoint.ReadSafetensors(path);
        IQuantizer reimported = Quantizer.FromReference(reread);
        CodeSet codes = quantizer.Encode(data);
        Assert.Multiple(() =>
        {
            Assert.That(reread.Format, Is.EqualTo(ReferenceFormat.Qinco2));
            Assert.That(reread.Hyperparameters, Is.EqualTo(new ReferenceHyperparameters(8, 16, 1, 3, 8, quantizer.Scale) { Embedding = 12, Candidates = candidates, BeamWidth = 2 }));
            Assert.That(reread.Tensors.ContainsKey("steps.1.substep.codebook.weight"), Is.EqualTo(candidates > 0));
            Assert.That(reimported.Encode(data).Data, Is.EqualTo(codes.Data));
            Assert.That(reimported.Decode(codes).Data, Is.EqualTo(quantizer.Decode(codes).Data));
        });
    }

    [Test]
    public void Imported_model_saves_and_loads_through_the_model_file()
    {
        IQuantizer imported = Quantizer.ImportPyTorch(PyTorchFixtures.PathOf("ivf_qinco2.pt"));
        string path = PathOf("ivf2.qinco");
        imported.Save(path);
        var loaded = (IvfQincoQuantizer)Quantizer.Load(path);
        (VectorSet x, Matrix<long> codes, _) = PyTorchFixtures.Expected("ivf_qinco2");
        CodeSet packed = PyTorchFixtures.Pack(codes, imported.Layout);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Options.Version, Is.EqualTo(QincoVersion.Qinco2));
            Assert.That(loaded.Lists, Is.EqualTo(10));
            Assert.That(loaded.Search, Is.EqualTo(new EncoderSearch(2, 4)));
            Assert.That(loaded.Decode(packed).Data, Is.EqualTo(imported.Decode(packed).Data));
            Assert.That(loaded.Encode(x).Data, Is.EqualTo(imported.Encode(x).Data));
        });
    }

    private static ReferenceCheckpoint Load(string fixture) => PyTorchCheckpoint.Load(PyTorchFixtures.PathOf(fixture + ".pt")).ToReferenceCheckpoint();

    private static ReferenceCheckpoint With(ReferenceCheckpoint checkpoint, Action<Dictionary<string, ReferenceTensor>> edit, ReferenceHyperparameters? hyper = null) =>
        PyTorchFixtures.Edited(checkpoint, edit, hyper);

    /// <summary>qinco2.pt rewritten with its 'parameters' dict edited, read back through the PyTorch reader.</summary>
    private static ReferenceCheckpoint Qinco2Checkpoint(Action<Dictionary<object, object?>> edit)
    {
        var parameters = new Dictionary<object, object?> { ["K"] = 16L, ["M"] = 2L, ["dh"] = 16L, ["L"] = 1L, ["A"] = 4L, ["B"] = 2L };
        edit(parameters);
        byte[] file = TorchFileBuilder.DictCheckpoint(parameters, dataDim: 8);
        return PyTorchCheckpoint.Load(new System.IO.MemoryStream(file), "edited.pt").ToReferenceCheckpoint();
    }
}
