using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.Extensions.Logging;
using Qinco.Core;

namespace Qinco.Interop;

/// <summary>
/// Imports models trained by the QINCo reference (PyTorch) from their <c>.pt</c> files: <c>Quantizer.ImportPyTorch</c>
/// (an extension of <see cref="Quantizer"/>), or <see cref="ToReferenceCheckpoint"/> for the checked state dict and
/// hyper-parameters. QINCo1 files hold a whole pickled module (ALGORITHM.md §7.1), QINCo2 files a dict checkpoint (§7.2).
/// </summary>
public static class PyTorchImport
{
    /// <summary>The reference's classes this library has no counterpart for, and what they are.</summary>
    private static readonly Dictionary<string, string> s_unsupported = new(StringComparer.Ordinal)
    {
        ["model_qinco.QINCoLR"] = "QINCo-LR (ALGORITHM.md §2.1: a low-rank concat layer)",
        ["model_qinco.PQ_QINCo"] = "PQ-QINCo (ALGORITHM.md §2.2: independent QINCo models on sub-vectors)",
    };

    /// <summary>
    /// The state dict and hyper-parameters of a QINCo1 checkpoint (a whole <c>model_qinco.QINCo</c> or
    /// <c>model_qinco.IVFQINCo</c> module, ALGORITHM.md §7.1: attributes d, K, L, M, h, db_scale, K_IVF) or of a QINCo2
    /// one (a dict with the state dict under <c>"model"</c>, <c>"parameters"</c> {K, M, de, dh, L, A, B, ivf_in_use,
    /// ivf_K, qinco1_mode} and <c>"data_dim"</c>, §7.2; its optimizer, scheduler and logger entries are ignored), in
    /// float32, ready for <see cref="Quantizer.FromReference"/>.
    /// </summary>
    /// <param name="checkpoint">A file read by <see cref="PyTorchCheckpoint.Load(string)"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="checkpoint"/> is null.</exception>
    /// <exception cref="ModelFormatException">
    /// The file holds no QINCo model: QINCo-LR and PQ-QINCo (named), another class, or a bare state dict (which lacks
    /// the hyper-parameters); or an attribute or parameter is missing or not a number, or a state-dict entry is not a
    /// floating-point tensor. The message names the file and the attribute, parameter or key.
    /// </exception>
    public static ReferenceCheckpoint ToReferenceCheckpoint(this PyTorchCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string source = checkpoint.Source;
        if (checkpoint.Module is not PyTorchModule module)
        {
            return checkpoint.Root is IReadOnlyDictionary<object, object?> dict && dict.ContainsKey("parameters") && dict.ContainsKey("model")
                ? Qinco2Checkpoint(dict, source)
                : throw new ModelFormatException($"{source}: holds {PyTorchCheckpoint.Describe(checkpoint.Root)}; {WhatInstead(checkpoint.Root)}");
        }
        ReferenceFormat format = module.ClassName switch
        {
            "model_qinco.QINCo" => ReferenceFormat.Qinco1,
            "model_qinco.IVFQINCo" => ReferenceFormat.IvfQinco1,
            string name when s_unsupported.TryGetValue(name, out string? what) =>
                throw new ModelFormatException($"{source}: holds a {name} module, i.e. {what}, which this library does not implement; only QINCo1 (model_qinco.QINCo), IVF-QINCo1 (model_qinco.IVFQINCo) and QINCo2 (dict checkpoints) models import."),
            string name => throw new ModelFormatException($"{source}: holds a {name} module, not a QINCo1 model (model_qinco.QINCo or model_qinco.IVFQINCo)."),
        };
        int Int(string attribute) => Integer(Attribute(module, attribute, source), $"the module attribute '{attribute}'", source);
        var hyper = new ReferenceHyperparameters(Int("d"), Int("K"), Int("L"), Int("M"), Int("h"), Number(Attribute(module, "db_scale", source), "the module attribute 'db_scale'", source),
            format == ReferenceFormat.IvfQinco1 ? Int("K_IVF") : null);
        return new ReferenceCheckpoint(format, hyper, Tensors(module.StateDict().Select(t => new KeyValuePair<object, object?>(t.Key, t.Value)), "a QINCo1 model's", source), source);
    }

    /// <summary>A QINCo2 dict checkpoint (§7.2): <c>parameters</c> and <c>data_dim</c> give the hyper-parameters, <c>model</c> the tensors.</summary>
    private static ReferenceCheckpoint Qinco2Checkpoint(IReadOnlyDictionary<object, object?> root, string source)
    {
        if (root["parameters"] is not IReadOnlyDictionary<object, object?> parameters)
        {
            throw new ModelFormatException($"{source}: the QINCo2 checkpoint's 'parameters' entry is {PyTorchCheckpoint.Describe(root["parameters"])}, not a dict.");
        }
        if (root["model"] is not IReadOnlyDictionary<object, object?> model)
        {
            throw new ModelFormatException($"{source}: the QINCo2 checkpoint's 'model' entry is {PyTorchCheckpoint.Describe(root["model"])}, not a state dict.");
        }
        // The reference leaves out parameters whose value is None (de absent: De = D).
        object? Parameter(string key) => parameters.TryGetValue(key, out object? value) ? value : null;
        int Int(string key) => Parameter(key) is { } value ? Integer(value, $"the parameter '{key}'", source)
            : throw new ModelFormatException($"{source}: the QINCo2 checkpoint's 'parameters' lack '{key}' (it needs K, M, dh, L, A and B, and ivf_K when ivf_in_use).");
        bool Flag(string key) => Parameter(key) is { } value && Number(value, $"the parameter '{key}'", source) != 0;
        int dimension = root.TryGetValue("data_dim", out object? dim) && dim is not null ? Integer(dim, "the entry 'data_dim'", source)
            : throw new ModelFormatException($"{source}: the QINCo2 checkpoint lacks its 'data_dim' entry (the vector dimension D).");
        bool ivf = Flag("ivf_in_use");
        IReadOnlyDictionary<string, ReferenceTensor> tensors = Tensors(model, "a QINCo2 model's", source);
        var hyper = new ReferenceHyperparameters(dimension, Int("K"), Int("L"), Int("M"), Int("dh"), ReferenceCheckpoint.ScaleOf(tensors), ivf ? Int("ivf_K") : null)
        {
            Embedding = Parameter("de") is null ? null : Int("de"),
            Candidates = Int("A"),
            BeamWidth = Int("B"),
            Qinco1Mode = Flag("qinco1_mode"),
        };
        return new ReferenceCheckpoint(ivf ? ReferenceFormat.IvfQinco2 : ReferenceFormat.Qinco2, hyper, tensors, source);
    }

    /// <summary>A state dict's entries as float32 tensors; a key that is not a string or a value that is not a floating-point tensor is named.</summary>
    private static Dictionary<string, ReferenceTensor> Tensors(IEnumerable<KeyValuePair<object, object?>> stateDict, string whose, string source)
    {
        var tensors = new Dictionary<string, ReferenceTensor>(StringComparer.Ordinal);
        foreach ((object key, object? value) in stateDict)
        {
            if (key is not string name || value is not PyTorchTensor tensor)
            {
                throw new ModelFormatException($"{source}: the state dict holds {PyTorchCheckpoint.Describe(value)} under {PyTorchCheckpoint.Describe(key)}; {whose} state dict maps names to tensors.");
            }
            if (!tensor.IsFloatingPoint)
            {
                throw new ModelFormatException($"{source}: the tensor '{name}' holds {tensor.DType} values; {whose} tensors are floating-point.");
            }
            tensors[name] = new ReferenceTensor([.. tensor.Shape], tensor.ToSingle());
        }
        return tensors;
    }

    /// <summary>Why a file that is neither a module nor a QINCo2 checkpoint does not import, and what would.</summary>
    private static string WhatInstead(object? root)
    {
        if (root is IReadOnlyDictionary<object, object?> dict)
        {
            if (dict.Count > 0 && dict.Values.All(v => v is PyTorchTensor))
            {
                return "a bare state dict lacks the hyper-parameters (QINCo1's module attributes d, K, L, M, h and db_scale; QINCo2's 'parameters' and 'data_dim'); import the file the reference saved (QINCo1: torch.save(model); QINCo2: its checkpoint dict).";
            }
            if (dict.ContainsKey("state_dict"))
            {
                return "a training checkpoint's state dict lacks the module attributes d, K, L, M, h and db_scale; import the best model file (torch.save(model)) instead.";
            }
        }
        return "a QINCo1 model file holds a whole pickled model_qinco.QINCo or model_qinco.IVFQINCo module, a QINCo2 one a dict with 'model', 'parameters' and 'data_dim'.";
    }

    private static object? Attribute(PyTorchModule module, string attribute, string source) =>
        module.Attributes.TryGetValue(attribute, out object? value) ? value
            : throw new ModelFormatException($"{source}: the {module.ClassName} module lacks the attribute '{attribute}' (a QINCo1 model keeps d, K, L, M, h and db_scale, and K_IVF for IVF, beside its state dict).");

    /// <summary>A number: a Python int, float or bool, a NumPy scalar, or a one-element tensor.</summary>
    private static double Number(object? value, string what, string source) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        PyTorchTensor { ElementCount: 1 } t => t.IsFloatingPoint ? t.ToSingle()[0] : t.ToInt64()[0],
        _ => throw new ModelFormatException($"{source}: {what} is {PyTorchCheckpoint.Describe(value)}, not a number."),
    };

    /// <summary>A <see cref="Number"/> that is an integer in the range of <see cref="int"/>.</summary>
    private static int Integer(object? value, string what, string source)
    {
        double number = Number(value, what, source);
        return number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue ? (int)number
            : throw new ModelFormatException($"{source}: {what} = {number.ToString(CultureInfo.InvariantCulture)} is not an integer.");
    }

    /// <summary>Imports models trained by the QINCo reference from PyTorch files.</summary>
    extension(Quantizer)
    {
        /// <summary>
        /// Imports a QINCo1 (<c>model_qinco.QINCo</c>) or IVF-QINCo1 (<c>model_qinco.IVFQINCo</c>) model saved by the
        /// reference with <c>torch.save(model)</c>, or a QINCo2 / IVF-QINCo2 dict checkpoint: a <see cref="QincoQuantizer"/>
        /// or an <see cref="IvfQincoQuantizer"/> that encodes with the reference's search (QINCo1's greedy exhaustive
        /// search; QINCo2's pre-selection of A candidates and beam of B) and decodes the reference's codes to the
        /// reference's reconstructions. Reads the file with <see cref="PyTorchCheckpoint.Load(string)"/> (nothing in it is
        /// executed), maps its keys with <see cref="ToReferenceCheckpoint"/> and builds with <see cref="Quantizer.FromReference"/>.
        /// </summary>
        /// <param name="path">The <c>.pt</c> file.</param>
        /// <param name="maxDegreeOfParallelism">Threads the quantizer computes with; -1 (default) uses all processors.</param>
        /// <param name="loggerFactory">Where the quantizer logs; null logs nothing.</param>
        /// <returns>A trained quantizer; save it with <c>quantizer.Save(path)</c> to get a Qinco model file.</returns>
        /// <exception cref="ModelFormatException">The file is corrupt or hostile, is not a QINCo1, IVF-QINCo1, QINCo2 or IVF-QINCo2 model (QINCo-LR and PQ-QINCo are named), or a tensor is missing, extra or mis-shaped; the message names the file and the key.</exception>
        /// <exception cref="System.IO.FileNotFoundException">No such file.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
        public static IQuantizer ImportPyTorch(string path, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null) =>
            Quantizer.FromReference(PyTorchCheckpoint.Load(path).ToReferenceCheckpoint(), maxDegreeOfParallelism, loggerFactory);
    }
}
