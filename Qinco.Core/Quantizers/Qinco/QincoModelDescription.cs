using System;
using System.Collections.Generic;
using System.Linq;

namespace Qinco.Core;

/// <summary>
/// One named tensor of a QINCo model, as stored in model files (ALGORITHM.md §7.1: the reference's state-dict names,
/// e.g. <c>codebook0</c>, <c>step3.concat.weight</c>, <c>step3.block1.up</c>).
/// </summary>
public sealed class QincoTensor
{
    private readonly int[] _shape;

    internal QincoTensor(string name, int[] shape, ReadOnlyMemory<float> values)
    {
        Name = name;
        _shape = (int[])shape.Clone();
        Values = values;
    }

    /// <summary>The tensor's name in the model file.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first; weights are <c>[out, in]</c> as in PyTorch.</summary>
    public IReadOnlyList<int> Shape => Array.AsReadOnly(_shape);

    /// <summary>Row-major values, in the model's normalised units (data divided by <see cref="QincoModelDescription.Scale"/>); <c>Values.Length</c> is the product of <see cref="Shape"/>.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", _shape)}]";
}

/// <summary>
/// The hyper-parameters and tensors of a QINCo model and the search its encoder runs: what a backend that evaluates
/// the model elsewhere (the optional Qinco.TorchSharp package) needs to rebuild it exactly. QINCo1's step network
/// (ALGORITHM.md §1.3) is <c>f(c, x̂) = z_L</c>, <c>z_0 = c + W·[c; x̂] + b</c>, <c>z_l = z_{l−1} + V_l·ReLU(U_l·z_{l−1})</c>.
/// </summary>
/// <remarks>
/// Tensors, in model-file order: <c>codebook0</c> [<see cref="FirstCodebookSize"/>, D]; then for every neural step
/// m = 1..<see cref="Steps"/>−1: <c>step{m}.codebook</c> [K, D], <c>step{m}.concat.weight</c> [D, 2D] (columns 0..D−1 act
/// on the codeword, D..2D−1 on x̂), <c>step{m}.concat.bias</c> [D], and for every block l = 0..L−1
/// <c>step{m}.block{l}.up</c> [h, D] and <c>step{m}.block{l}.down</c> [D, h]. QINCo2 (<see cref="Architecture"/>
/// <c>"qinco2"</c>, ALGORITHM.md §5) adds <c>step{m}.preselection</c> [K, D], <c>step{m}.in_proj</c> [De, D] and
/// <c>step{m}.out_proj</c> [D, De], widens the concat weight to [De, De + D], and normalises by a per-dimension mean as
/// well as the scale. A backend should look tensors up by name and refuse an architecture it does not know.
/// </remarks>
public sealed class QincoModelDescription
{
    internal QincoModelDescription(string architecture, int dimension, int codebookSize, int firstCodebookSize, int steps, int residualBlocks, int hiddenSize,
        float scale, EncoderSearch search, int firstBeams, IReadOnlyList<QincoTensor> tensors)
    {
        Architecture = architecture;
        Dimension = dimension;
        CodebookSize = codebookSize;
        FirstCodebookSize = firstCodebookSize;
        Steps = steps;
        ResidualBlocks = residualBlocks;
        HiddenSize = hiddenSize;
        Scale = scale;
        Search = search;
        FirstBeams = firstBeams;
        Tensors = tensors;
    }

    /// <summary>
    /// The step network's architecture: <c>"qinco1"</c> (ALGORITHM.md §1.3), or <c>"qinco2"</c> (§5: projections, the
    /// codeword skip term, pre-selection codebooks, mean/std normalisation, dead-codeword resets).
    /// </summary>
    public string Architecture { get; }

    /// <summary>D, floats per vector.</summary>
    public int Dimension { get; }

    /// <summary>K, codewords of every neural step.</summary>
    public int CodebookSize { get; }

    /// <summary>Rows of <c>codebook0</c>: K, or the IVF list count (IVF-QINCo's step 0 is its frozen coarse centroids).</summary>
    public int FirstCodebookSize { get; }

    /// <summary>Code indices per vector the model produces, step 0 included (IVF-QINCo: the list, then its M steps).</summary>
    public int Steps { get; }

    /// <summary>L, residual blocks per neural step.</summary>
    public int ResidualBlocks { get; }

    /// <summary>h, hidden width of the residual blocks.</summary>
    public int HiddenSize { get; }

    /// <summary>The data scale s: the model works on x / s and reconstructions are multiplied by s (ALGORITHM.md §1.1).</summary>
    public float Scale { get; }

    /// <summary>The encoder's beam width and candidates per beam (ALGORITHM.md §5.3–5.4).</summary>
    public EncoderSearch Search { get; }

    /// <summary>Beams kept after the first step the encoder runs: <see cref="EncoderSearch.BeamWidth"/>, or IVF-QINCo's probed lists.</summary>
    public int FirstBeams { get; }

    /// <summary>Every tensor, in model-file order (the order of the training parameters, less IVF-QINCo's frozen <c>codebook0</c>).</summary>
    public IReadOnlyList<QincoTensor> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The model has no tensor of that name.</exception>
    public QincoTensor this[string name] => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"The {Architecture} model has no tensor named '{name}'.");
}

/// <summary>
/// Implemented by the <c>Qinco.Training.ITrainableModel</c> that QINCo and IVF-QINCo hand to the trainer, so an
/// <c>ITrainingDevice</c> other than the CPU one (e.g. Qinco.TorchSharp's) can compute the same loss and gradients
/// itself (ALGORITHM.md §1.6): encode each batch with <see cref="Model"/>'s current parameters and its search (no
/// gradient), then the summed per-step squared error of the decoded prefixes divided by D, summed over the rows.
/// </summary>
public interface IQincoTrainingSource
{
    /// <summary>
    /// The model being trained. Its tensor values are views of the live host arrays (the trainer's
    /// <c>ParameterSet</c> wraps the same arrays): read them only while the trainer is not stepping.
    /// </summary>
    QincoModelDescription Model { get; }

    /// <summary>What the loss sums: every step's error (<see cref="QincoLoss.AllSteps"/>) or the last one's.</summary>
    QincoLoss Loss { get; }

    /// <summary>
    /// Copies the training rows numbered <paramref name="rows"/> into <paramref name="destination"/> in normalised units
    /// (the model's normalisation applied), row-major [rows.Length, D]. The rows may be read from a file when asked (a
    /// streamed fit), so read each batch's rows, not the whole set; safe from several threads at once.
    /// </summary>
    void ReadTrainingRows(ReadOnlySpan<int> rows, Span<float> destination);

    /// <summary>
    /// IVF-QINCo: the frozen list (step-0 code) of every training row, [TrainingRowCount]; encoding then starts at step 1
    /// from that list's centroid, <c>codebook0</c> is not trained and step 0 adds no loss term (ALGORITHM.md §3.1).
    /// Empty for QINCo.
    /// </summary>
    ReadOnlyMemory<int> TrainingLists { get; }
}
