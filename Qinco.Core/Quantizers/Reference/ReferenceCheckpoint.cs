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

    /// <summary>
    /// QINCo2 (the reference's dict checkpoint, ALGORITHM.md §5, §7.2): <c>data_mean</c>, <c>data_std</c>,
    /// <c>steps.0.codebook.weight</c> [K, D] and the neural steps <c>steps.1</c> … <c>steps.{M−1}</c>; imports as a
    /// <see cref="QincoQuantizer"/> with <see cref="QincoVersion.Qinco2"/> and M steps.
    /// </summary>
    Qinco2 = 3,

    /// <summary>
    /// IVF-QINCo2 (ALGORITHM.md §3.2, §7.2): as <see cref="Qinco2"/>, but <c>steps.0.ivf_centroids.weight</c> [ivf_K, D]
    /// holds the (normalised) coarse centroids and M neural steps <c>steps.1</c> … <c>steps.{M}</c> follow; imports as an
    /// <see cref="IvfQincoQuantizer"/> with <see cref="QincoVersion.Qinco2"/>, ivf_K lists and M steps.
    /// </summary>
    IvfQinco2 = 4,
}

/// <summary>
/// The hyper-parameters a reference checkpoint keeps beside its state dict: QINCo1's plain module attributes
/// (ALGORITHM.md §7.1: <c>d, K, L, M, h, db_scale</c>, and <c>K_IVF</c> for IVF), or QINCo2's <c>data_dim</c> and
/// <c>parameters</c> (§7.2: <c>K, M, de, dh, L, A, B, ivf_K, qinco1_mode</c>).
/// </summary>
/// <param name="Dimension">D (<c>d</c>, <c>data_dim</c>): floats per vector.</param>
/// <param name="CodebookSize">K: codewords per neural step; a power of two, 2..65,536 (the code stores log2 K bits per step).</param>
/// <param name="ResidualBlocks">L: residual blocks per step, 0..64.</param>
/// <param name="Steps">M: code indices; without IVF step 0 plus M − 1 neural steps, with IVF M neural steps after the list number.</param>
/// <param name="HiddenSize">h (QINCo2: <c>dh</c>): hidden width of the residual blocks, 1..65,536.</param>
/// <param name="Scale">QINCo1: s (<c>db_scale</c>), the model sees x / s; positive and finite as a float32. QINCo2 keeps σ in its <c>data_std</c> tensor, which is what is imported; the readers put its value here too (NaN when the tensor is absent), for display.</param>
/// <param name="Lists">K_IVF (QINCo2: <c>ivf_K</c>): the IVF centroids; null without IVF.</param>
public sealed record ReferenceHyperparameters(int Dimension, int CodebookSize, int ResidualBlocks, int Steps, int HiddenSize, double Scale, int? Lists = null)
{
    /// <summary>QINCo2's De (<c>de</c>), the width inside a step, 1..65,536; null (the reference omits it) means D, no projections.</summary>
    public int? Embedding { get; init; }

    /// <summary>QINCo2's A: candidates pre-selected per beam by the substep codebook; 0 (QINCo1) evaluates all K and the steps have no substep codebook.</summary>
    public int Candidates { get; init; }

    /// <summary>QINCo2's B: beams kept between steps (1 for QINCo1's greedy search).</summary>
    public int BeamWidth { get; init; } = 1;

    /// <summary>
    /// QINCo2's <c>qinco1_mode</c> (α = 0 in (5.4): no codeword skip term). Such a model imports as a QINCo1 quantizer
    /// (De = D and A = 0 required), with its mean folded into the step-0 codebook and the concat biases.
    /// </summary>
    public bool Qinco1Mode { get; init; }

    /// <summary>
    /// This library's encoder search for a QINCo1 model (beam width and candidates, <see cref="EncoderSearch"/>), which
    /// the reference does not have: its exports carry it in the metadata keys <c>qinco_net_beam_width</c> and
    /// <c>qinco_net_candidates</c> so that export → import keeps it. Null (a reference checkpoint) imports with the
    /// reference's greedy, exhaustive search (§1.5). QINCo2 models keep theirs in B and A.
    /// </summary>
    public EncoderSearch? Qinco1Search { get; init; }

    /// <summary>
    /// This library's probed lists of an IVF model (the nearest lists its beams start from, 1..<see cref="QuantizerLimits.MaxBeamWidth"/>),
    /// carried by its exports in the metadata key <c>qinco_net_probed_lists</c>; null imports with 1, the reference's.
    /// </summary>
    public int? ProbedLists { get; init; }
}

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
/// A model trained by the QINCo reference (PyTorch), as its state dict (the reference's key names, ALGORITHM.md §7.1,
/// §7.2) and the hyper-parameters stored beside it: what <see cref="Quantizer.FromReference"/> imports and what an export
/// writes back. The PyTorch <c>.pt</c> reader is in the Qinco.Interop package (<c>Quantizer.ImportPyTorch</c>); the
/// safetensors form (<see cref="ReadSafetensors(string)"/>, <see cref="WriteSafetensors(string)"/>) needs neither.
/// </summary>
/// <remarks>
/// <para>QINCo1 keys (s = step index; without IVF s = 1 … M−1, with IVF s = 0 … M−1; l = 0 … L−1):
/// <c>codebook0.weight</c> [K, D] (IVF: [K_IVF, D]), <c>step{s}.codebook.weight</c> [K, D],
/// <c>step{s}.MLPconcat.weight</c> [D, 2D], <c>step{s}.MLPconcat.bias</c> [D],
/// <c>step{s}.residual_block{l}.0.weight</c> [h, D] and <c>step{s}.residual_block{l}.2.weight</c> [D, h], all in
/// normalised units (data divided by <c>db_scale</c>), linear weights <c>[out, in]</c> as PyTorch stores them.</para>
/// <para>QINCo2 keys (i = 1 … M−1, with IVF 1 … M): <c>data_mean</c> [D], <c>data_std</c> [] (the model sees
/// (x − μ)/σ), <c>steps.0.codebook.weight</c> [K, D] (IVF: <c>steps.0.ivf_centroids.weight</c> [ivf_K, D]),
/// <c>steps.{i}.codebook.weight</c> [K, D], <c>steps.{i}.substep.codebook.weight</c> [K, D] when A &gt; 0,
/// <c>steps.{i}.in_proj.weight</c> [De, D] and <c>steps.{i}.out_proj.weight</c> [D, De] when De ≠ D,
/// <c>steps.{i}.concat.mlp.weight</c> [De, De + D], <c>steps.{i}.concat.mlp.bias</c> [De],
/// <c>steps.{i}.residual_blocks.{l}.up_proj.weight</c> [Dh, De] and <c>….down_proj.weight</c> [De, Dh]; the training
/// buffers <c>steps.{i}.xtarget_mean</c> and <c>xtarget_var</c> [D] may be present and are not imported. A = 0 (no
/// substep codebook) imports with each step's pre-selection codebook a copy of its base codebook, which is what
/// pre-selecting with the base codebook means.</para>
/// <para>The safetensors form stores these tensors as F32 under the same keys, and the hyper-parameters as
/// <c>__metadata__</c> strings: <c>format</c> (<c>qinco1</c>, <c>ivf-qinco1</c>, <c>qinco2</c> or <c>ivf-qinco2</c>),
/// <c>d</c>, <c>K</c>, <c>L</c>, <c>M</c>, then QINCo1's <c>h</c> and <c>db_scale</c>, or QINCo2's <c>dh</c>, <c>A</c>,
/// <c>B</c> and <c>de</c> (only when De ≠ D), and for IVF <c>K_IVF</c> (the export recipe of ALGORITHM.md §7.3, with
/// the JSON sidecar folded into the file). Loading it into the reference module is
/// <c>model.load_state_dict(tensors)</c> (strict for QINCo1; QINCo2's <c>xtarget</c> buffers are not exported), plus
/// <c>model.db_scale = float(metadata["db_scale"])</c> for QINCo1.</para>
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

    /// <summary>The hyper-parameters (QINCo1: d, K, L, M, h, db_scale, K_IVF; QINCo2 adds de, A, B and qinco1_mode).</summary>
    public ReferenceHyperparameters Hyperparameters { get; }

    /// <summary>The state dict: reference key → tensor.</summary>
    public IReadOnlyDictionary<string, ReferenceTensor> Tensors => _tensors;

    /// <summary>Where the checkpoint came from (a file name), used in messages.</summary>
    public string Source { get; }

    private bool IsIvf => Format is ReferenceFormat.IvfQinco1 or ReferenceFormat.IvfQinco2;

    private bool IsQinco2 => Format is ReferenceFormat.Qinco2 or ReferenceFormat.IvfQinco2;

    /// <summary>
    /// The checkpoint of a trained QINCo or IVF-QINCo quantizer, in the reference's key names and layouts (the exact
    /// inverse of <see cref="Quantizer.FromReference"/>; the tensors are copies). A QINCo1 quantizer's encoder search
    /// and an IVF quantizer's probed lists are not part of the reference model: they travel in
    /// <see cref="ReferenceHyperparameters.Qinco1Search"/> and <see cref="ReferenceHyperparameters.ProbedLists"/> (metadata
    /// that the reference ignores); a QINCo2 quantizer's beam width and candidates are its B and A, and its
    /// pre-selection codebooks are exported only when A &gt; 0.
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
        bool qinco2 = file.Has("version") && file.GetInt64("version") == (int)QincoVersion.Qinco2;
        var hyper = new ReferenceHyperparameters(quantizer.Dimension, 1 << quantizer.CodebookBits, (int)file.GetInt64("residual_blocks"), quantizer.Steps,
            (int)file.GetInt64("hidden_size"), file.GetFloat64("scale"), ivf ? (int)file.GetInt64("lists") : null);
        if (ivf)
        {
            hyper = hyper with { ProbedLists = (int)file.GetInt64("probed_lists") };
        }
        if (!qinco2)
        {
            hyper = hyper with { Qinco1Search = new EncoderSearch((int)file.GetInt64("beam_width"), (int)file.GetInt64("candidates")) };
        }
        else
        {
            int embedding = (int)file.GetInt64("embedding_size");
            hyper = hyper with
            {
                Embedding = embedding == quantizer.Dimension ? null : embedding,
                Candidates = (int)file.GetInt64("candidates"),
                BeamWidth = (int)file.GetInt64("beam_width"),
            };
        }
        ReferenceFormat format = (ivf, qinco2) switch
        {
            (false, false) => ReferenceFormat.Qinco1,
            (true, false) => ReferenceFormat.IvfQinco1,
            (false, true) => ReferenceFormat.Qinco2,
            (true, true) => ReferenceFormat.IvfQinco2,
        };
        var tensors = new Dictionary<string, ReferenceTensor>(StringComparer.Ordinal);
        foreach (TensorKey key in Layout(format, hyper))
        {
            if (key.Ours is null)
            {
                continue;
            }
            float[] values = key.Ours == ScaleField ? [(float)file.GetFloat64(ScaleField)] : (float[])file.GetFloats(key.Ours, key.Shape).Clone();
            tensors[key.Reference] = new ReferenceTensor(key.Shape, values);
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
            : throw new ModelFormatException($"{name}: the safetensors metadata lacks '{key}' (a QINCo1 export stores format, d, K, L, M, h, db_scale; a QINCo2 export format, d, K, L, M, dh, A, B and de when De ≠ D; IVF adds K_IVF).");
        int Int(string key) => int.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value
            : throw new ModelFormatException($"{name}: the safetensors metadata '{key}' = '{Meta(key)}' is not an integer.");
        ReferenceFormat format = Meta("format") switch
        {
            "qinco1" => ReferenceFormat.Qinco1,
            "ivf-qinco1" => ReferenceFormat.IvfQinco1,
            "qinco2" => ReferenceFormat.Qinco2,
            "ivf-qinco2" => ReferenceFormat.IvfQinco2,
            string other => throw new ModelFormatException($"{name}: the safetensors metadata names the format '{other}'; this build reads 'qinco1', 'ivf-qinco1', 'qinco2' and 'ivf-qinco2'."),
        };
        bool ivf = format is ReferenceFormat.IvfQinco1 or ReferenceFormat.IvfQinco2;
        var tensors = new Dictionary<string, ReferenceTensor>(StringComparer.Ordinal);
        foreach (SafetensorsTensor tensor in read)
        {
            tensors[tensor.Name] = new ReferenceTensor(tensor.Shape, tensor.Values);
        }
        ReferenceHyperparameters hyper;
        if (format is ReferenceFormat.Qinco2 or ReferenceFormat.IvfQinco2)
        {
            hyper = new ReferenceHyperparameters(Int("d"), Int("K"), Int("L"), Int("M"), Int("dh"), ScaleOf(tensors), ivf ? Int("K_IVF") : null)
            {
                Embedding = metadata.ContainsKey("de") ? Int("de") : null,
                Candidates = Int("A"),
                BeamWidth = Int("B"),
            };
        }
        else
        {
            if (!double.TryParse(Meta("db_scale"), NumberStyles.Float, CultureInfo.InvariantCulture, out double scale))
            {
                throw new ModelFormatException($"{name}: the safetensors metadata 'db_scale' = '{Meta("db_scale")}' is not a number.");
            }
            hyper = new ReferenceHyperparameters(Int("d"), Int("K"), Int("L"), Int("M"), Int("h"), scale, ivf ? Int("K_IVF") : null);
        }
        if (metadata.ContainsKey(BeamWidthKey) || metadata.ContainsKey(CandidatesKey))
        {
            hyper = hyper with { Qinco1Search = new EncoderSearch(Int(BeamWidthKey), Int(CandidatesKey)) };
        }
        if (metadata.ContainsKey(ProbedListsKey))
        {
            hyper = hyper with { ProbedLists = Int(ProbedListsKey) };
        }
        return new ReferenceCheckpoint(format, hyper, tensors, name);
    }

    private const string BeamWidthKey = "qinco_net_beam_width", CandidatesKey = "qinco_net_candidates", ProbedListsKey = "qinco_net_probed_lists";

    /// <summary>σ of a QINCo2 state dict: the value of its one-element <c>data_std</c> tensor, or NaN (the import then names the tensor).</summary>
    /// <param name="tensors">The state dict.</param>
    public static double ScaleOf(IReadOnlyDictionary<string, ReferenceTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return tensors.TryGetValue(DataStd, out ReferenceTensor? std) && std.Values.Length == 1 ? std.Values.Span[0] : double.NaN;
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
            ["format"] = Format switch
            {
                ReferenceFormat.IvfQinco1 => "ivf-qinco1",
                ReferenceFormat.Qinco2 => "qinco2",
                ReferenceFormat.IvfQinco2 => "ivf-qinco2",
                _ => "qinco1",
            },
            ["d"] = Text(h.Dimension),
            ["K"] = Text(h.CodebookSize),
            ["L"] = Text(h.ResidualBlocks),
            ["M"] = Text(h.Steps),
        };
        if (IsQinco2)
        {
            metadata["dh"] = Text(h.HiddenSize);
            metadata["A"] = Text(h.Candidates);
            metadata["B"] = Text(h.BeamWidth);
            if (h.Embedding is int embedding)
            {
                metadata["de"] = Text(embedding);
            }
        }
        else
        {
            metadata["h"] = Text(h.HiddenSize);
            metadata["db_scale"] = h.Scale.ToString("R", CultureInfo.InvariantCulture);
        }
        if (h.Lists is int lists)
        {
            metadata["K_IVF"] = Text(lists);
        }
        if (h.Qinco1Search is EncoderSearch search)
        {
            metadata[BeamWidthKey] = Text(search.BeamWidth);
            metadata[CandidatesKey] = Text(search.Candidates);
        }
        if (h.ProbedLists is int probed)
        {
            metadata[ProbedListsKey] = Text(probed);
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
        bool ivf = IsIvf, qinco2 = IsQinco2;
        CheckRange("d", h.Dimension, 1, QuantizerLimits.MaxDimension);
        CheckRange("K", h.CodebookSize, 2, 1 << QuantizerLimits.MaxCodebookBits);
        if ((h.CodebookSize & (h.CodebookSize - 1)) != 0)
        {
            throw Error($"has K = {h.CodebookSize} codewords per step; this library stores log2 K bits per index, so K must be a power of two.");
        }
        CheckRange("M", h.Steps, 1, QuantizerLimits.MaxSteps);
        CheckRange("L", h.ResidualBlocks, 0, 64);
        CheckRange(qinco2 ? "dh" : "h", h.HiddenSize, 1, 65536);
        if (qinco2)
        {
            CheckRange("de", h.Embedding ?? h.Dimension, 1, 65536);
            CheckRange("A", h.Candidates, 0, QuantizerLimits.MaxCandidates);
            CheckRange("B", h.BeamWidth, 1, QuantizerLimits.MaxBeamWidth);
            if (h.Qinco1Mode && (h.Candidates != 0 || (h.Embedding ?? h.Dimension) != h.Dimension))
            {
                throw Error($"has qinco1_mode (no codeword skip term) with A = {h.Candidates} and de = {h.Embedding ?? h.Dimension} (D = {h.Dimension}); this library imports qinco1_mode models as QINCo1, which needs A = 0 and De = D.");
            }
        }
        else
        {
            CheckScale("db_scale", h.Scale);
            if (h.Embedding is not null || h.Candidates != 0 || h.BeamWidth != 1 || h.Qinco1Mode)
            {
                throw Error($"is a {Format} checkpoint but gives QINCo2's de, A, B or qinco1_mode; QINCo1 has none of them.");
            }
        }
        if (h.Qinco1Search is EncoderSearch given)
        {
            if (qinco2 && !h.Qinco1Mode)
            {
                throw Error($"is a {Format} checkpoint but gives a QINCo1 encoder search ({given}); QINCo2 keeps its search in B and A.");
            }
            CheckRange(BeamWidthKey, given.BeamWidth, 1, QuantizerLimits.MaxBeamWidth);
            CheckRange(CandidatesKey, given.Candidates, 0, QuantizerLimits.MaxCandidates);
        }
        if (h.ProbedLists is int probedLists)
        {
            if (!ivf)
            {
                throw Error($"is a {Format} checkpoint but gives {ProbedListsKey} = {probedLists}; only IVF checkpoints have lists.");
            }
            CheckRange(ProbedListsKey, probedLists, 1, QuantizerLimits.MaxBeamWidth);
        }
        if (ivf)
        {
            CheckRange(qinco2 ? "ivf_K" : "K_IVF", h.Lists ?? 0, 1, IvfQincoOptions.MaxLists);
        }
        else if (h.Lists is not null)
        {
            throw Error($"is a {Format} checkpoint but gives K_IVF = {h.Lists}; only IVF checkpoints have lists.");
        }
        // A qinco1_mode model is QINCo1's step with QINCo2's normalisation: it becomes a QINCo1 model file (below).
        bool version2 = qinco2 && !h.Qinco1Mode;
        var file = new ModelFile(ivf ? QuantizerKind.IvfQinco : QuantizerKind.Qinco);
        file.Set("dimension", h.Dimension);
        file.Set("steps", h.Steps);
        file.Set("codebook_bits", System.Numerics.BitOperations.Log2((uint)h.CodebookSize));
        file.Set("residual_blocks", h.ResidualBlocks);
        file.Set("hidden_size", h.HiddenSize);
        if (!qinco2)
        {
            file.Set(ScaleField, (double)(float)h.Scale);
        }
        // QINCo1's reference encodes with the greedy, exhaustive search (§1.5); QINCo2's with pre-selection of A and a
        // beam of B (§5.4). So does the imported quantizer, unless this library's export carried a QINCo1 search.
        EncoderSearch reference = qinco2 ? new EncoderSearch(h.BeamWidth, h.Candidates) : EncoderSearch.Greedy;
        EncoderSearch search = version2 ? reference : h.Qinco1Search ?? reference;
        file.Set("beam_width", search.BeamWidth);
        file.Set("candidates", search.Candidates);
        if (version2)
        {
            file.Set("version", (int)QincoVersion.Qinco2);
            file.Set("embedding_size", h.Embedding ?? h.Dimension);
        }
        if (ivf)
        {
            var defaults = new IvfQincoOptions();
            file.Set("lists", h.Lists!.Value);
            file.Set("probed_lists", h.ProbedLists ?? defaults.ProbedLists);
            file.Set("coarse_iterations", defaults.CoarseIterations);
        }
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorKey key in Layout(Format, h))
        {
            expected.Add(key.Reference);
            if (!_tensors.TryGetValue(key.Reference, out ReferenceTensor? tensor))
            {
                if (key.Optional)
                {
                    continue;
                }
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
            if (key.Ours == ScaleField)
            {
                CheckScale($"'{key.Reference}'", values[0]);
                file.Set(ScaleField, (double)values[0]);
            }
            else if (key.Ours is not null)
            {
                file.Set(key.Ours, values, key.Shape);
            }
        }
        foreach (string key in _tensors.Keys.Order(StringComparer.Ordinal))
        {
            if (!expected.Contains(key))
            {
                throw Error($"holds the tensor '{key}', which a {Describe(h)} model does not have{Hint(key)}.");
            }
        }
        if (!qinco2)
        {
            return file;
        }
        // The reference's steps.{i}, i = 1 … last, are this library's step{i}.
        int last = ivf ? h.Steps : h.Steps - 1, d = h.Dimension, k = h.CodebookSize;
        if (h.Qinco1Mode)
        {
            FoldMean(file, h, last);
            return file;
        }
        if (h.Candidates == 0)
        {
            // No substep codebook: pre-select with the base codebook (unused while A = 0 evaluates every codeword).
            for (int m = 1; m <= last; m++)
            {
                file.Set($"step{m}.preselection", (float[])file.GetFloats($"step{m}.codebook", k, d).Clone(), k, d);
            }
        }
        return file;
    }

    /// <summary>
    /// Makes a qinco1_mode model (QINCo1's step, QINCo2's (x − μ)/σ) a QINCo1 model of scale σ: with x̂' = x̂ + μ/σ the
    /// step-0 codebook becomes C_0 + μ/σ and every concat bias b − W_x·μ/σ, so decoding (σ·x̂' = σ·x̂ + μ), the step
    /// networks' outputs and the encoder's distances (x/σ − x̂' = (x − μ)/σ − x̂) are those of the reference.
    /// </summary>
    private static void FoldMean(ModelFile file, ReferenceHyperparameters h, int last)
    {
        int d = h.Dimension;
        double sigma = file.GetFloat64(ScaleField);
        float[] mean = file.GetFloats(MeanField, d);
        var shift = new double[d];
        for (int j = 0; j < d; j++)
        {
            shift[j] = mean[j] / sigma;
        }
        float[] codebook0 = file.GetFloats("codebook0", h.Lists ?? h.CodebookSize, d);
        for (int i = 0; i < codebook0.Length; i++)
        {
            codebook0[i] = (float)(codebook0[i] + shift[i % d]);
        }
        for (int m = 1; m <= last; m++)
        {
            float[] weight = file.GetFloats($"step{m}.concat.weight", d, 2 * d), bias = file.GetFloats($"step{m}.concat.bias", d);
            for (int row = 0; row < d; row++)
            {
                double dot = 0;
                for (int j = 0; j < d; j++)
                {
                    dot += weight[(row * 2 * d) + d + j] * shift[j];
                }
                bias[row] = (float)(bias[row] - dot);
            }
        }
    }

    /// <summary>
    /// Every tensor of the format: the reference key, this library's model-file name (null: checked but not imported;
    /// <see cref="ScaleField"/>: the scalar σ), the shape, and whether it may be absent.
    /// </summary>
    private static IEnumerable<TensorKey> Layout(ReferenceFormat format, ReferenceHyperparameters h)
    {
        int d = h.Dimension, k = h.CodebookSize;
        bool ivf = format is ReferenceFormat.IvfQinco1 or ReferenceFormat.IvfQinco2;
        if (format is ReferenceFormat.Qinco2 or ReferenceFormat.IvfQinco2)
        {
            foreach (TensorKey key in Qinco2Layout(h, ivf))
            {
                yield return key;
            }
            yield break;
        }
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

    /// <summary>QINCo2's keys (§7.2): the reference's steps.{i} is this library's step{i}, with or without IVF.</summary>
    private static IEnumerable<TensorKey> Qinco2Layout(ReferenceHyperparameters h, bool ivf)
    {
        int d = h.Dimension, k = h.CodebookSize, de = h.Embedding ?? d, dh = h.HiddenSize;
        yield return new(DataMean, MeanField, [d]);
        yield return new(DataStd, ScaleField, []);
        yield return ivf ? new("steps.0.ivf_centroids.weight", "codebook0", [h.Lists!.Value, d]) : new("steps.0.codebook.weight", "codebook0", [k, d]);
        int last = ivf ? h.Steps : h.Steps - 1;
        for (int i = 1; i <= last; i++)
        {
            string r = $"steps.{i}", o = $"step{i}";
            yield return new($"{r}.codebook.weight", $"{o}.codebook", [k, d]);
            if (h.Candidates > 0)
            {
                yield return new($"{r}.substep.codebook.weight", $"{o}.preselection", [k, d]);
            }
            if (de != d)
            {
                yield return new($"{r}.in_proj.weight", $"{o}.in_proj", [de, d]);
                yield return new($"{r}.out_proj.weight", $"{o}.out_proj", [d, de]);
            }
            yield return new($"{r}.concat.mlp.weight", $"{o}.concat.weight", [de, de + d]);
            yield return new($"{r}.concat.mlp.bias", $"{o}.concat.bias", [de]);
            for (int l = 0; l < h.ResidualBlocks; l++)
            {
                yield return new($"{r}.residual_blocks.{l}.up_proj.weight", $"{o}.block{l}.up", [dh, de]);
                yield return new($"{r}.residual_blocks.{l}.down_proj.weight", $"{o}.block{l}.down", [de, dh]);
            }
            // Training-only buffers of the dead-codeword reset (§5.8): shape-checked when present, never imported.
            yield return new($"{r}.xtarget_mean", null, [d], Optional: true);
            yield return new($"{r}.xtarget_var", null, [d], Optional: true);
        }
    }

    private static string Hint(string key) =>
        key.Contains(".MLPconcat.0.", StringComparison.Ordinal) || key.Contains(".MLPconcat.1.", StringComparison.Ordinal)
            ? " (a factorised concat layer is QINCo-LR's, which this library does not implement)"
            : key.StartsWith("sub_quantizer_", StringComparison.Ordinal) ? " (sub-quantizers are PQ-QINCo's, which this library does not implement)"
            : key.Contains(".residual_blocks.", StringComparison.Ordinal) && (key.EndsWith(".in_proj.weight", StringComparison.Ordinal) || key.EndsWith(".out_proj.weight", StringComparison.Ordinal))
                ? " (an older internal QINCo2 layout: the reference's convert task renames residual_blocks.N.in_proj/out_proj to up_proj/down_proj)"
            : key == "steps.0.substep.codebook.weight" ? " (an older internal QINCo2 layout: the reference's convert task drops it)"
            : key.Contains(".substep.", StringComparison.Ordinal) ? " (a substep codebook exists only when A > 0)"
            : string.Empty;

    private string Describe(ReferenceHyperparameters h) => IsQinco2
        ? string.Create(CultureInfo.InvariantCulture,
            $"{Format} d={h.Dimension} K={h.CodebookSize} L={h.ResidualBlocks} M={h.Steps} de={h.Embedding ?? h.Dimension} dh={h.HiddenSize} A={h.Candidates}{(h.Lists is int q ? $" ivf_K={q}" : string.Empty)}")
        : string.Create(CultureInfo.InvariantCulture,
            $"{Format} d={h.Dimension} K={h.CodebookSize} L={h.ResidualBlocks} M={h.Steps} h={h.HiddenSize}{(h.Lists is int n ? $" K_IVF={n}" : string.Empty)}");

    private void CheckRange(string attribute, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw Error($"has {attribute} = {value}, outside {min}..{max}.");
        }
    }

    private void CheckScale(string what, double scale)
    {
        if (!(scale > 0) || !float.IsFinite((float)scale) || (float)scale == 0)
        {
            throw Error($"has {what} = {scale.ToString(CultureInfo.InvariantCulture)}; it must be a positive number that float32 represents.");
        }
    }

    private ModelFormatException Error(string problem) => new($"{Source}: the checkpoint {problem}");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private const string DataMean = "data_mean", DataStd = "data_std", MeanField = "mean", ScaleField = "scale";

    private sealed record TensorKey(string Reference, string? Ours, int[] Shape, bool Optional = false);
}
