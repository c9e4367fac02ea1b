using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Extensions.Logging;
using Qinco.Core.IO;
using Qinco.Core.Serialization;

namespace Qinco.Core;

/// <summary>The reference model a <see cref="ReferenceCheckpoint"/> holds (ALGORITHM.md §7).</summary>
public enum ReferenceFormat
{
    /// <summary>
    /// QINCo1 (<c>model_qinco.QINCo</c>, ALGORITHM.md §1, §7.1): <c>codebook0.weight</c> [K, D] and the neural steps
    /// <c>step1</c> … <c>step{M−1}</c>; imports as a <see cref="QincoQuantizer"/> of M steps.
    /// </summary>
    Qinco1 = 1,

    /// <summary>
    /// IVF-QINCo1 (<c>model_qinco.IVFQINCo</c>, ALGORITHM.md §3.1, §7.1): <c>codebook0.weight</c> [K_IVF, D] holds the
    /// coarse centroids and the neural steps are <c>step0</c> … <c>step{M−1}</c>; imports as an
    /// <see cref="IvfQincoQuantizer"/> of K_IVF lists and M steps (the reference's step s is this library's step s + 1).
    /// </summary>
    IvfQinco1 = 2,
}

/// <summary>
/// The hyper-parameters a reference QINCo1 checkpoint keeps beside its state dict, as plain module attributes
/// (ALGORITHM.md §7.1: <c>d, K, L, M, h, db_scale</c>, and <c>K_IVF</c> for IVF).
/// </summary>
/// <param name="Dimension">D (<c>d</c>): floats per vector.</param>
/// <param name="CodebookSize">K: codewords per neural step; a power of two, 2..65,536 (the code stores log2 K bits per step).</param>
/// <param name="ResidualBlocks">L: residual blocks per step, 0..64.</param>
/// <param name="Steps">M: code indices; without IVF step 0 plus M − 1 neural steps, with IVF M neural steps after the list number.</param>
/// <param name="HiddenSize">h: hidden width of the residual blocks, 1..65,536.</param>
/// <param name="Scale">s (<c>db_scale</c>): the model sees x / s; positive and finite as a float32.</param>
/// <param name="Lists">K_IVF: the IVF centroids; null without IVF.</param>
public sealed record ReferenceHyperparameters(int Dimension, int CodebookSize, int ResidualBlocks, int Steps, int HiddenSize, double Scale, int? Lists = null);

/// <summary>One tensor of a reference state dict, converted to float32.</summary>
public sealed class ReferenceTensor
{
    private readonly int[] _shape;

    /// <summary>Wraps row-major <paramref name="values"/> of the given shape (without copying; the importer copies).</summary>
    /// <param name="shape">Dimensions, outermost first (PyTorch's <c>[out, in]</c> for a linear weight); each 0 or more.</param>
    /// <param name="values">Row-major values; exactly as many as the shape's product.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A negative dimension, or a value count that is not the shape's product.</exception>
    public ReferenceTensor(IReadOnlyList<int> shape, float[] values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(values);
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
            }
            count = Math.Min(count * dim, long.MaxValue / 2);
        }
        if (count != values.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {count} values, but {values.Length} were given.", nameof(values));
        }
        _shape = [.. shape];
        Values = values;
    }

    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Row-major values (the array given to the constructor).</summary>
    public ReadOnlyMemory<float> Values { get; }

    internal bool HasShape(int[] shape) => _shape.AsSpan().SequenceEqual(shape);

    internal string ShapeText => Describe(_shape);

    internal static string Describe(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";
}

/// <summary>
/// A model trained by the QINCo1 reference (PyTorch), as its state dict (the reference's key names, ALGORITHM.md §7.1)
/// and the hyper-parameters stored beside it: what <see cref="Quantizer.FromReference"/> imports and what an export
/// writes back. The PyTorch <c>.pt</c> reader is in the Qinco.Interop package (<c>Quantizer.ImportPyTorch</c>); the
/// safetensors form (<see cref="ReadSafetensors(string)"/>, <see cref="WriteSafetensors(string)"/>) needs neither.
/// </summary>
/// <remarks>
/// <para>Keys (s = step index; without IVF s = 1 … M−1, with IVF s = 0 … M−1; l = 0 … L−1):
/// <c>codebook0.weight</c> [K, D] (IVF: [K_IVF, D]), <c>step{s}.codebook.weight</c> [K, D],
/// <c>step{s}.MLPconcat.weight</c> [D, 2D], <c>step{s}.MLPconcat.bias</c> [D],
/// <c>step{s}.residual_block{l}.0.weight</c> [h, D] and <c>step{s}.residual_block{l}.2.weight</c> [D, h], all in
/// normalised units (data divided by <c>db_scale</c>), linear weights <c>[out, in]</c> as PyTorch stores them.</para>
/// <para>The safetensors form stores these tensors as F32 under the same keys, and the hyper-parameters as
/// <c>__metadata__</c> strings: <c>format</c> (<c>qinco1</c> or <c>ivf-qinco1</c>), <c>d</c>, <c>K</c>, <c>L</c>,
/// <c>M</c>, <c>h</c>, <c>db_scale</c> and, for IVF, <c>K_IVF</c> (the export recipe of ALGORITHM.md §7.3, with the
/// JSON sidecar folded into the file). Loading it into the reference module is
/// <c>model.load_state_dict(tensors, strict=True)</c> plus <c>model.db_scale = float(metadata["db_scale"])</c>.</para>
/// </remarks>
public sealed class ReferenceCheckpoint
{
    private readonly Dictionary<string, ReferenceTensor> _tensors;

    /// <summary>Creates a checkpoint from its parts; nothing is checked until <see cref="Quantizer.FromReference"/>.</summary>
    /// <param name="format">Which reference model the tensors belong to.</param>
    /// <param name="hyperparameters">The module attributes.</param>
    /// <param name="tensors">The state dict: reference key → tensor.</param>
    /// <param name="source">Where it came from (a file name), for messages.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public ReferenceCheckpoint(ReferenceFormat format, ReferenceHyperparameters hyperparameters, IReadOnlyDictionary<string, ReferenceTensor> tensors, string source = "checkpoint")
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(source);
        Format = format;
        Hyperparameters = hyperparameters;
        _tensors = new Dictionary<string, ReferenceTensor>(tensors, StringComparer.Ordinal);
        Source = source;
    }

    /// <summary>Which reference model the tensors belong to.</summary>
    public ReferenceFormat Format { get; }

    /// <summary>The module attributes (d, K, L, M, h, db_scale, K_IVF).</summary>
    public ReferenceHyperparameters Hyperparameters { get; }

    /// <summary>The state dict: reference key → tensor.</summary>
    public IReadOnlyDictionary<string, ReferenceTensor> Tensors => _tensors;

    /// <summary>Where the checkpoint came from (a file name), used in messages.</summary>
    public string Source { get; }

    /// <summary>
    /// The checkpoint of a trained QINCo or IVF-QINCo quantizer, in the reference's key names and layouts (the exact
    /// inverse of <see cref="Quantizer.FromReference"/>; the tensors are copies). The encoder settings (beam,
    /// candidates, probed lists) are not part of the reference model and are not exported.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="quantizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The quantizer is neither a <see cref="QincoQuantizer"/> nor an <see cref="IvfQincoQuantizer"/>.</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public static ReferenceCheckpoint FromQuantizer(IQuantizer quantizer)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        if (quantizer is not QincoQuantizerBase qinco)
        {
            throw new ArgumentException($"Only QINCo and IVF-QINCo quantizers have a reference (PyTorch) form; this one is {quantizer.Kind}.", nameof(quantizer));
        }
        ModelFile file = qinco.ToModelFile();
        bool ivf = quantizer.Kind == QuantizerKind.IvfQinco;
        var hyper = new ReferenceHyperparameters(quantizer.Dimension, 1 << quantizer.CodebookBits, (int)file.GetInt64("residual_blocks"), quantizer.Steps,
            (int)file.GetInt64("hidden_size"), file.GetFloat64("scale"), ivf ? (int)file.GetInt64("lists") : null);
        ReferenceFormat format = ivf ? ReferenceFormat.IvfQinco1 : ReferenceFormat.Qinco1;
        var tensors = new Dictionary<string, ReferenceTensor>(StringComparer.Ordinal);
        foreach (TensorKey key in Layout(format, hyper))
        {
            tensors[key.Reference] = new ReferenceTensor(key.Shape, (float[])file.GetFloats(key.Ours, key.Shape).Clone());
        }
        return new ReferenceCheckpoint(format, hyper, tensors, quantizer.Description);
    }

    /// <summary>Reads a checkpoint written by <see cref="WriteSafetensors(string)"/> (or by the reference export recipe with the hyper-parameters in <c>__metadata__</c>).</summary>
    /// <exception cref="ModelFormatException">The file is truncated or corrupt, or its metadata lacks or garbles a hyper-parameter; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static ReferenceCheckpoint ReadSafetensors(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        return ReadSafetensors(stream, path);
    }

    /// <summary>Reads a safetensors checkpoint from a seekable stream (from its current position).</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="name">The name messages give the file.</param>
    /// <exception cref="ModelFormatException">The data is truncated or corrupt, or its metadata lacks or garbles a hyper-parameter.</exception>
    /// <exception cref="ArgumentException">The stream cannot seek.</exception>
    public static ReferenceCheckpoint ReadSafetensors(Stream stream, string name = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(name);
        (Dictionary<string, string> metadata, List<SafetensorsTensor> read) = Safetensors.Read(stream, name);
        string Meta(string key) => metadata.TryGetValue(key, out string? value) ? value
            : throw new ModelFormatException($"{name}: the safetensors metadata lacks '{key}' (a QINCo1 export stores format, d, K, L, M, h, db_scale and, for IVF, K_IVF).");
        int Int(string key) => int.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value
            : throw new ModelFormatException($"{name}: the safetensors metadata '{key}' = '{Meta(key)}' is not an integer.");
        ReferenceFormat format = Meta("format") switch
        {
            "qinco1" => ReferenceFormat.Qinco1,
            "ivf-qinco1" => ReferenceFormat.IvfQinco1,
            string other => throw new ModelFormatException($"{name}: the safetensors metadata names the format '{other}'; this build reads 'qinco1' and 'ivf-qinco1'."),
        };
        if (!double.TryParse(Meta("db_scale"), NumberStyles.Float, CultureInfo.InvariantCulture, out double scale))
        {
            throw new ModelFormatException($"{name}: the safetensors metadata 'db_scale' = '{Meta("db_scale")}' is not a number.");
        }
        var hyper = new ReferenceHyperparameters(Int("d"), Int("K"), Int("L"), Int("M"), Int("h"), scale, format == ReferenceFormat.IvfQinco1 ? Int("K_IVF") : null);
        var tensors = new Dictionary<string, ReferenceTensor>(StringComparer.Ordinal);
        foreach (SafetensorsTensor tensor in read)
        {
            tensors[tensor.Name] = new ReferenceTensor(tensor.Shape, tensor.Values);
        }
        return new ReferenceCheckpoint(format, hyper, tensors, name);
    }

    /// <summary>Writes the checkpoint as safetensors (F32 tensors under the reference keys, hyper-parameters in <c>__metadata__</c>), atomically.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void WriteSafetensors(string path) => AtomicFile.Write(path, WriteSafetensors);

    /// <summary>Writes the checkpoint as safetensors to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    public void WriteSafetensors(Stream stream)
    {
        ReferenceHyperparameters h = Hyperparameters;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format == ReferenceFormat.IvfQinco1 ? "ivf-qinco1" : "qinco1",
            ["d"] = Text(h.Dimension),
            ["K"] = Text(h.CodebookSize),
            ["L"] = Text(h.ResidualBlocks),
            ["M"] = Text(h.Steps),
            ["h"] = Text(h.HiddenSize),
            ["db_scale"] = h.Scale.ToString("R", CultureInfo.InvariantCulture),
        };
        if (h.Lists is int lists)
        {
            metadata["K_IVF"] = Text(lists);
        }
        Safetensors.Write(stream, metadata, _tensors.Select(t => new SafetensorsTensor(t.Key, [.. t.Value.Shape], t.Value.Values.ToArray())).ToList());
    }

    /// <summary>
    /// Checks the checkpoint against the hyper-parameters and builds the model file of the quantizer it imports as: every
    /// expected key present, no other key, every shape and every value finite; errors name the reference key.
    /// </summary>
    internal ModelFile ToModelFile()
    {
        ReferenceHyperparameters h = Hyperparameters;
        bool ivf = Format == ReferenceFormat.IvfQinco1;
        CheckRange("d", h.Dimension, 1, QuantizerLimits.MaxDimension);
        CheckRange("K", h.CodebookSize, 2, 1 << QuantizerLimits.MaxCodebookBits);
        if ((h.CodebookSize & (h.CodebookSize - 1)) != 0)
        {
            throw Error($"has K = {h.CodebookSize} codewords per step; this library stores log2 K bits per index, so K must be a power of two.");
        }
        CheckRange("M", h.Steps, 1, QuantizerLimits.MaxSteps);
        CheckRange("L", h.ResidualBlocks, 0, 64);
        CheckRange("h", h.HiddenSize, 1, 65536);
        if (!(h.Scale > 0) || !float.IsFinite((float)h.Scale) || (float)h.Scale == 0)
        {
            throw Error($"has db_scale = {h.Scale}; it must be a positive number that float32 represents.");
        }
        if (ivf)
        {
            CheckRange("K_IVF", h.Lists ?? 0, 1, IvfQincoOptions.MaxLists);
        }
        else if (h.Lists is not null)
        {
            throw Error($"is a {Format} checkpoint but gives K_IVF = {h.Lists}; only IVF checkpoints have lists.");
        }
        var file = new ModelFile(ivf ? QuantizerKind.IvfQinco : QuantizerKind.Qinco);
        file.Set("dimension", h.Dimension);
        file.Set("steps", h.Steps);
        file.Set("codebook_bits", System.Numerics.BitOperations.Log2((uint)h.CodebookSize));
        file.Set("residual_blocks", h.ResidualBlocks);
        file.Set("hidden_size", h.HiddenSize);
        file.Set("scale", (double)(float)h.Scale);
        // The reference encodes with QINCo1's greedy, exhaustive search (§1.5); so does the imported quantizer.
        file.Set("beam_width", EncoderSearch.Greedy.BeamWidth);
        file.Set("candidates", EncoderSearch.Greedy.Candidates);
        if (ivf)
        {
            var defaults = new IvfQincoOptions();
            file.Set("lists", h.Lists!.Value);
            file.Set("probed_lists", defaults.ProbedLists);
            file.Set("coarse_iterations", defaults.CoarseIterations);
        }
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorKey key in Layout(Format, h))
        {
            expected.Add(key.Reference);
            if (!_tensors.TryGetValue(key.Reference, out ReferenceTensor? tensor))
            {
                throw Error($"lacks the tensor '{key.Reference}' {ReferenceTensor.Describe(key.Shape)} that a {Describe(h)} model has.");
            }
            if (!tensor.HasShape(key.Shape))
            {
                throw Error($"has the tensor '{key.Reference}' of shape {tensor.ShapeText}; a {Describe(h)} model needs {ReferenceTensor.Describe(key.Shape)}.");
            }
            float[] values = tensor.Values.ToArray();
            int bad = Numerics.FiniteCheck.IndexOfNonFinite(values);
            if (bad >= 0)
            {
                throw Error($"has the value {values[bad]} at flat index {bad} of tensor '{key.Reference}': every value must be finite.");
            }
            file.Set(key.Ours, values, key.Shape);
        }
        foreach (string key in _tensors.Keys.Order(StringComparer.Ordinal))
        {
            if (!expected.Contains(key))
            {
                throw Error($"holds the tensor '{key}', which a {Describe(h)} model does not have{Hint(key)}.");
            }
        }
        return file;
    }

    /// <summary>Every tensor of the format: the reference key, this library's model-file name, and the shape.</summary>
    private static IEnumerable<TensorKey> Layout(ReferenceFormat format, ReferenceHyperparameters h)
    {
        int d = h.Dimension, k = h.CodebookSize;
        bool ivf = format == ReferenceFormat.IvfQinco1;
        yield return new("codebook0.weight", "codebook0", [ivf ? h.Lists!.Value : k, d]);
        int first = ivf ? 0 : 1, last = h.Steps - 1, shift = ivf ? 1 : 0;
        for (int s = first; s <= last; s++)
        {
            string r = $"step{s}", o = $"step{s + shift}";
            yield return new($"{r}.codebook.weight", $"{o}.codebook", [k, d]);
            yield return new($"{r}.MLPconcat.weight", $"{o}.concat.weight", [d, 2 * d]);
            yield return new($"{r}.MLPconcat.bias", $"{o}.concat.bias", [d]);
            for (int l = 0; l < h.ResidualBlocks; l++)
            {
                yield return new($"{r}.residual_block{l}.0.weight", $"{o}.block{l}.up", [h.HiddenSize, d]);
                yield return new($"{r}.residual_block{l}.2.weight", $"{o}.block{l}.down", [d, h.HiddenSize]);
            }
        }
    }

    private static string Hint(string key) =>
        key.Contains(".MLPconcat.0.", StringComparison.Ordinal) || key.Contains(".MLPconcat.1.", StringComparison.Ordinal)
            ? " (a factorised concat layer is QINCo-LR's, which this library does not implement)"
            : key.StartsWith("sub_quantizer_", StringComparison.Ordinal) ? " (sub-quantizers are PQ-QINCo's, which this library does not implement)" : string.Empty;

    private string Describe(ReferenceHyperparameters h) => string.Create(CultureInfo.InvariantCulture,
        $"{Format} d={h.Dimension} K={h.CodebookSize} L={h.ResidualBlocks} M={h.Steps} h={h.HiddenSize}{(h.Lists is int n ? $" K_IVF={n}" : string.Empty)}");

    private void CheckRange(string attribute, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw Error($"has {attribute} = {value}, outside {min}..{max}.");
        }
    }

    private ModelFormatException Error(string problem) => new($"{Source}: the checkpoint {problem}");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record TensorKey(string Reference, string Ours, int[] Shape);
}
