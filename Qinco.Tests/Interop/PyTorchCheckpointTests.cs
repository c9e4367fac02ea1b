using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Interop;

namespace Qinco.Tests.Interop;

/// <summary>The PyTorch reader on the fixtures: modules, dict checkpoints, state dicts and every storage type.</summary>
public sealed class PyTorchCheckpointTests
{
    [Test]
    public void Whole_module_reads_as_data_with_its_attributes_and_state_dict()
    {
        PyTorchCheckpoint checkpoint = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("qinco1.pt"));
        PyTorchModule module = checkpoint.Module!;
        Assert.That(module, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(module.ClassName, Is.EqualTo("model_qinco.QINCo"));
            Assert.That(module.Attributes.Keys, Is.EquivalentTo(new[] { "d", "K", "L", "M", "h", "db_scale" }));
            Assert.That(module.Attributes["d"], Is.EqualTo(8L));
            Assert.That(module.Attributes["M"], Is.EqualTo(3L));
            Assert.That(module.Attributes["db_scale"], Is.EqualTo(37.5)); // a NumPy float32 scalar in the file
            Assert.That(module.Children.Keys, Is.EqualTo(new[] { "codebook0", "step1", "step2" }));
            Assert.That(module.Children["step1"]!.ClassName, Is.EqualTo("model_qinco.QINCoStep"));
            Assert.That(module.Children["step1"]!.Children["residual_block0"]!.ClassName, Is.EqualTo("torch.nn.modules.container.Sequential"));
            Assert.That(module.Children["codebook0"]!.Parameters["weight"]!.Shape, Is.EqualTo(new[] { 16, 8 }));
            Assert.That(module.Children["codebook0"]!.Attributes["num_embeddings"], Is.EqualTo(16L));
            Assert.That(module.Children["step1"]!.Children["MLPconcat"]!.Attributes["in_features"], Is.EqualTo(16L));
        });
        IReadOnlyDictionary<string, PyTorchTensor> stateDict = checkpoint.GetStateDict();
        Assert.That(stateDict.Keys.Take(4), Is.EqualTo(new[] { "codebook0.weight", "step1.codebook.weight", "step1.MLPconcat.weight", "step1.MLPconcat.bias" }));
        Assert.That(stateDict, Has.Count.EqualTo(15));
        Assert.That(stateDict.Values.All(t => t.DType == PyTorchDType.Float32));
    }

    [Test]
    public void Bare_state_dict_reads_in_order()
    {
        PyTorchCheckpoint checkpoint = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("qinco1_state_dict.pt"));
        IReadOnlyDictionary<string, PyTorchTensor> fromModule = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("qinco1.pt")).GetStateDict();
        IReadOnlyDictionary<string, PyTorchTensor> stateDict = checkpoint.GetStateDict();
        Assert.That(stateDict.Keys, Is.EqualTo(fromModule.Keys));
        foreach (string key in stateDict.Keys)
        {
            Assert.That(stateDict[key].ToSingle(), Is.EqualTo(fromModule[key].ToSingle()), key);
        }
    }

    [Test]
    public void Qinco2_dict_checkpoint_reads()
    {
        PyTorchCheckpoint checkpoint = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("qinco2.pt"));
        var root = (IReadOnlyDictionary<object, object?>)checkpoint.Root!;
        var parameters = (IReadOnlyDictionary<object, object?>)root["parameters"]!;
        var optimizer = (IReadOnlyDictionary<object, object?>)root["optimizer"]!;
        var state = (IReadOnlyDictionary<object, object?>)optimizer["state"]!;
        var groups = (IReadOnlyList<object?>)optimizer["param_groups"]!;
        IReadOnlyDictionary<string, PyTorchTensor> model = checkpoint.GetStateDict();
        Assert.Multiple(() =>
        {
            Assert.That(checkpoint.Module, Is.Null);
            Assert.That(root["epoch"], Is.EqualTo(3L));
            Assert.That(root["data_dim"], Is.EqualTo(8L));
            Assert.That(parameters["K"], Is.EqualTo(16L));
            Assert.That(parameters["A"], Is.EqualTo(4L));
            Assert.That(((IReadOnlyDictionary<object, object?>)state[0L]!)["step"], Is.InstanceOf<PyTorchTensor>());
            Assert.That(((IReadOnlyDictionary<object, object?>)groups[0]!)["betas"], Is.EqualTo(new object[] { 0.9, 0.999 }));
            Assert.That(((IReadOnlyList<object?>)((IReadOnlyDictionary<object, object?>)root["logger"]!)["val_mse"]!), Is.EqualTo(new object[] { 1.5, 1.25, 1.125 }));
            Assert.That(model.Keys.First(), Is.EqualTo("data_mean"));
            Assert.That(model["data_std"].Shape, Is.Empty);
            Assert.That(model["data_std"].ToSingle(), Is.EqualTo(new[] { 2.5f }));
            Assert.That(model["steps.1.concat.mlp.weight"].Shape, Is.EqualTo(new[] { 8, 16 }));
            Assert.That(model["steps.1.residual_blocks.0.down_proj.weight"].Shape, Is.EqualTo(new[] { 8, 16 }));
        });
    }

    [Test]
    public void Every_storage_type_view_and_offset_reads_as_pytorch_wrote_it()
    {
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(PyTorchFixtures.PathOf("dtypes.json")));
        IReadOnlyDictionary<string, PyTorchTensor> tensors = PyTorchCheckpoint.Load(PyTorchFixtures.PathOf("dtypes.pt")).GetStateDict();
        Assert.That(tensors.Keys, Is.EqualTo(expected.RootElement.EnumerateObject().Select(p => p.Name)));
        foreach (JsonProperty item in expected.RootElement.EnumerateObject())
        {
            PyTorchTensor tensor = tensors[item.Name];
            int[] shape = [.. item.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
            double[] values = [.. item.Value.GetProperty("values").EnumerateArray().Select(e => e.GetDouble())];
            string dtype = item.Value.GetProperty("dtype").GetString()!;
            Assert.Multiple(() =>
            {
                Assert.That(tensor.Shape, Is.EqualTo(shape), item.Name);
                Assert.That(tensor.ElementCount, Is.EqualTo(values.Length), item.Name);
                Assert.That(tensor.DType.ToString().ToLowerInvariant(), Is.EqualTo(dtype), item.Name);
                Assert.That(tensor.ToSingle(), Is.EqualTo(values.Select(v => (float)v).ToArray()), item.Name);
                if (!tensor.IsFloatingPoint)
                {
                    Assert.That(tensor.ToInt64(), Is.EqualTo(values.Select(v => (long)v).ToArray()), item.Name);
                }
            });
        }
        Assert.That(() => tensors["f32"].ToInt64(), Throws.InvalidOperationException);
    }
}
