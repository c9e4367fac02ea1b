using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.Extensions.Logging;
using Qinco.Core;

namespace Qinco.Interop;

/// <summary>
/// Imports models trained by the QINCo1 reference (PyTorch) from their <c>.pt</c> files: <c>Quantizer.ImportPyTorch</c>
/// (an extension of <see cref="Quantizer"/>), or <see cref="ToReferenceCheckpoint"/> for the checked state dict and
/// hyper-parameters.
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
    /// The state dict and module attributes of a QINCo1 checkpoint (<c>model_qinco.QINCo</c>, ALGORITHM.md §7.1) or an
    /// IVF-QINCo1 one (<c>model_qinco.IVFQINCo</c>), in float32, ready for <see cref="Quantizer.FromReference"/>.
    /// </summary>
    /// <param name="checkpoint">A file read by <see cref="PyTorchCheckpoint.Load(string)"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="checkpoint"/> is null.</exception>
    /// <exception cref="ModelFormatException">
    /// The file holds no whole QINCo1 module: QINCo-LR and PQ-QINCo (named), another class, a QINCo2 dict checkpoint (read
    /// by <see cref="PyTorchCheckpoint"/>, but not imported until this library implements QINCo2), or a bare state dict
    /// (which lacks the attributes d, K, L, M, h, db_scale); or an attribute is missing or not a number, or a tensor is
    /// not floating-point. The message names the file and the attribute or key.
    /// </exception>
    public static ReferenceCheckpoint ToReferenceCheckpoint(this PyTorchCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string source = checkpoint.Source;
        if (checkpoint.Module is not PyTorchModule module)
        {
            throw new ModelFormatException($"{source}: holds {PyTorchCheckpoint.Describe(checkpoint.Root)}; {WhatInstead(checkpoint.Root)}");
        }
        ReferenceFormat format = module.ClassName switch
        {
            "model_qinco.QINCo" => ReferenceFormat.Qinco1,
            "model_qinco.IVFQINCo" => ReferenceFormat.IvfQinco1,
            string name when s_unsupported.TryGetValue(name, out string? what) =>
                throw new ModelFormatException($"{source}: holds a {name} module, i.e. {what}, which this library does not implement; only QINCo1 (model_qinco.QINCo) and IVF-QINCo1 (model_qinco.IVFQINCo) models import."),
            string name => throw new ModelFormatException($"{source}: holds a {name} module, not a QINCo1 model (model_qinco.QINCo or model_qinco.IVFQINCo)."),
        };
        int Int(string attribute)
        {
            double value = Number(module, attribute, source);
            return value == Math.Floor(value) && value is >= int.MinValue and <= int.MaxValue ? (int)value
                : throw new ModelFormatException($"{source}: the module attribute '{attribute}' = {value.ToString(CultureInfo.InvariantCulture)} is not an integer.");
        }
        var hyper = new ReferenceHyperparameters(Int("d"), Int("K"), Int("L"), Int("M"), Int("h"), Number(module, "db_scale", source),
            format == ReferenceFormat.IvfQinco1 ? Int("K_IVF") : null);
        var tensors = new Dictionary<string, ReferenceTensor>(StringComparer.Ordinal);
        foreach ((string key, PyTorchTensor tensor) in module.StateDict())
        {
            if (!tensor.IsFloatingPoint)
            {
                throw new ModelFormatException($"{source}: the tensor '{key}' holds {tensor.DType} values; a QINCo1 model's tensors are floating-point.");
            }
            tensors[key] = new ReferenceTensor([.. tensor.Shape], tensor.ToSingle());
        }
        return new ReferenceCheckpoint(format, hyper, tensors, source);
    }

    /// <summary>Why a non-module file does not import, and what would.</summary>
    private static string WhatInstead(object? root)
    {
        if (root is IReadOnlyDictionary<object, object?> dict)
        {
            if (dict.ContainsKey("parameters") && dict.ContainsKey("model"))
            {
                return "it is a QINCo2 checkpoint (ALGORITHM.md §7.2), which PyTorchCheckpoint reads but this library cannot import until it implements QINCo2.";
            }
            if (dict.Count > 0 && dict.Values.All(v => v is PyTorchTensor))
            {
                return "a bare state dict lacks the module attributes d, K, L, M, h and db_scale; save the whole model (torch.save(model)) as the reference does.";
            }
            if (dict.ContainsKey("state_dict"))
            {
                return "a training checkpoint's state dict lacks the module attributes d, K, L, M, h and db_scale; import the best model file (torch.save(model)) instead.";
            }
        }
        return "a QINCo1 model file holds a whole pickled model_qinco.QINCo or model_qinco.IVFQINCo module.";
    }

    /// <summary>A numeric module attribute: a Python int or float, a NumPy scalar, or a one-element tensor.</summary>
    private static double Number(PyTorchModule module, string attribute, string source)
    {
        if (!module.Attributes.TryGetValue(attribute, out object? value))
        {
            throw new ModelFormatException($"{source}: the {module.ClassName} module lacks the attribute '{attribute}' (a QINCo1 model keeps d, K, L, M, h and db_scale, and K_IVF for IVF, beside its state dict).");
        }
        return value switch
        {
            long l => l,
            double d => d,
            bool b => b ? 1 : 0,
            PyTorchTensor { ElementCount: 1 } t => t.IsFloatingPoint ? t.ToSingle()[0] : t.ToInt64()[0],
            _ => throw new ModelFormatException($"{source}: the module attribute '{attribute}' is {PyTorchCheckpoint.Describe(value)}, not a number."),
        };
    }

    /// <summary>Imports models trained by the QINCo1 reference from PyTorch files.</summary>
    extension(Quantizer)
    {
        /// <summary>
        /// Imports a QINCo1 (<c>model_qinco.QINCo</c>) or IVF-QINCo1 (<c>model_qinco.IVFQINCo</c>) model saved by the
        /// reference with <c>torch.save(model)</c>: a <see cref="QincoQuantizer"/> or an <see cref="IvfQincoQuantizer"/>
        /// that encodes with QINCo1's greedy exhaustive search and decodes the reference's codes to the reference's
        /// reconstructions. Reads the file with <see cref="PyTorchCheckpoint.Load(string)"/> (nothing in it is
        /// executed), maps its keys with <see cref="ToReferenceCheckpoint"/> and builds with <see cref="Quantizer.FromReference"/>.
        /// </summary>
        /// <param name="path">The <c>.pt</c> file.</param>
        /// <param name="maxDegreeOfParallelism">Threads the quantizer computes with; -1 (default) uses all processors.</param>
        /// <param name="loggerFactory">Where the quantizer logs; null logs nothing.</param>
        /// <returns>A trained quantizer; save it with <c>quantizer.Save(path)</c> to get a Qinco model file.</returns>
        /// <exception cref="ModelFormatException">The file is corrupt or hostile, is not a QINCo1 / IVF-QINCo1 model (QINCo-LR, PQ-QINCo and QINCo2 are named), or a tensor is missing, extra or mis-shaped; the message names the file and the key.</exception>
        /// <exception cref="System.IO.FileNotFoundException">No such file.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
        public static IQuantizer ImportPyTorch(string path, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null) =>
            Quantizer.FromReference(PyTorchCheckpoint.Load(path).ToReferenceCheckpoint(), maxDegreeOfParallelism, loggerFactory);
    }
}
