using System;
using System.Collections.Generic;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The tensors of one QINCo1 neural step (ALGORITHM.md §1.2), in model-file order; the same type holds their
/// gradients. Weights are stored <c>[out, in]</c>.
/// </summary>
/// <param name="Codebook">Base codebook C, shape [K, D].</param>
/// <param name="ConcatWeight">Concat layer W, shape [D, 2D]: columns 0..D−1 act on the codeword, D..2D−1 on x̂.</param>
/// <param name="ConcatBias">Concat layer bias b, shape [D].</param>
/// <param name="Up">Per residual block l, the up-projection U_l, shape [h, D].</param>
/// <param name="Down">Per residual block l, the down-projection V_l, shape [D, h].</param>
internal sealed record Qinco1StepTensors(float[] Codebook, float[] ConcatWeight, float[] ConcatBias, float[][] Up, float[][] Down)
{
    /// <summary>The tensors in model-file order: codebook, concat weight, concat bias, then up and down of each block.</summary>
    public IEnumerable<float[]> InFileOrder()
    {
        yield return Codebook;
        yield return ConcatWeight;
        yield return ConcatBias;
        for (int l = 0; l < Up.Length; l++)
        {
            yield return Up[l];
            yield return Down[l];
        }
    }

    /// <summary>Views <paramref name="blocks"/> blocks' worth of tensors of <paramref name="flat"/> (file order) from <paramref name="index"/> on, advancing it.</summary>
    public static Qinco1StepTensors Take(IReadOnlyList<float[]> flat, ref int index, int blocks)
    {
        float[] codebook = flat[index++], weight = flat[index++], bias = flat[index++];
        var up = new float[blocks][];
        var down = new float[blocks][];
        for (int l = 0; l < blocks; l++)
        {
            up[l] = flat[index++];
            down[l] = flat[index++];
        }
        return new Qinco1StepTensors(codebook, weight, bias, up, down);
    }
}

/// <summary>
/// QINCo1's step network (ALGORITHM.md §1.3): <c>f(c, x̂) = z_L</c> with <c>z_0 = c + W·[c; x̂] + b</c> and
/// <c>z_l = z_{l−1} + V_l·ReLU(U_l·z_{l−1})</c>. The forward pass exists once, used by encoding (many candidate
/// codewords per beam), decoding and training; it evaluates the first layers with the hoisting of §8.1: the
/// codeword-only terms <c>T[k] = C[k] + W_c·C[k]</c> and <c>S[k] = U_1·T[k]</c> come from <see cref="Qinco1Tables"/>,
/// and the reconstruction terms <c>v = W_x·x̂ + b</c>, <c>q = U_1·v</c> are computed once per beam.
/// </summary>
/// <param name="dimension">D.</param>
/// <param name="codebookSize">K.</param>
/// <param name="hidden">h.</param>
/// <param name="parameters">The step's tensors.</param>
internal sealed class Qinco1Step(int dimension, int codebookSize, int hidden, Qinco1StepTensors parameters)
{
    public int Dimension => dimension;

    public int CodebookSize => codebookSize;

    public int Hidden => hidden;

    public int Blocks => parameters.Up.Length;

    public Qinco1StepTensors Parameters => parameters;

    /// <summary>
    /// Computes the codeword-only tables and packs the weights the forward pass multiplies by, from the current
    /// parameters (again after every parameter change: training does it once per optimiser step, without allocating).
    /// </summary>
    public void ComputeTables(Qinco1Tables tables, int threads)
    {
        int d = dimension, k = codebookSize;
        float[] w = parameters.ConcatWeight;
        for (int row = 0; row < d; row++)
        {
            w.AsSpan(row * 2 * d, d).CopyTo(tables.CodewordWeight.AsSpan(row * d, d));
            w.AsSpan(row * 2 * d + d, d).CopyTo(tables.ReconstructionWeight.AsSpan(row * d, d));
        }
        parameters.Codebook.CopyTo(tables.CodewordTerm, 0);
        Layers.LinearForward(parameters.Codebook, tables.CodewordWeight, tables.CodewordTerm, k, d, d, threads, accumulate: true);
        if (Blocks > 0)
        {
            Layers.LinearForward(tables.CodewordTerm, parameters.Up[0], tables.CodewordHidden, k, d, hidden, threads);
        }
        tables.Pack(tables.ReconstructionWeight, parameters.Up, parameters.Down, threads);
    }

    /// <summary>
    /// Evaluates <c>f(C[k], x̂)</c> for <paramref name="slots"/> reconstructions with <paramref name="perSlot"/> codewords
    /// each: row r uses codeword <c>codes[r]</c> (or <c>r mod perSlot</c> when <paramref name="codes"/> is empty) and
    /// x̂ of slot <c>r / perSlot</c>. The result is <see cref="Qinco1Activations.Output"/> [slots · perSlot, D].
    /// </summary>
    /// <param name="tables">Tables computed from the current parameters.</param>
    /// <param name="codes">Shape [slots · perSlot], or empty.</param>
    /// <param name="xhat">Shape [slots, D].</param>
    /// <param name="slots">Reconstructions.</param>
    /// <param name="perSlot">Codewords per reconstruction.</param>
    /// <param name="a">Where the activations go (every layer kept when it was created for training).</param>
    /// <param name="threads">Threads of the GEMMs.</param>
    public void Forward(Qinco1Tables tables, ReadOnlySpan<int> codes, ReadOnlySpan<float> xhat, int slots, int perSlot, Qinco1Activations a, int threads)
    {
        int d = dimension, h = hidden, rows = slots * perSlot;
        a.Ensure(rows, slots);
        Span<float> v = a.V.AsSpan(0, slots * d);
        Layers.LinearForward(xhat[..(slots * d)], tables.ReconstructionPacked, v, slots, threads);
        Layers.AddBias(v, parameters.ConcatBias, slots, d);
        Span<float> z = a.Layer(0, rows);
        Layers.GatherAdd(tables.CodewordTerm, codes, v, rows, perSlot, d, z);
        if (Blocks == 0)
        {
            return;
        }
        Span<float> q = a.Q.AsSpan(0, slots * h);
        Layers.LinearForward(v, tables.UpPacked[0], q, slots, threads);
        Span<float> activation = a.Hidden(0, rows);
        Layers.GatherAdd(tables.CodewordHidden, codes, q, rows, perSlot, h, activation);
        for (int l = 0; l < Blocks; l++)
        {
            if (l > 0)
            {
                activation = a.Hidden(l, rows);
                Layers.LinearForward(z, tables.UpPacked[l], activation, rows, threads);
            }
            Layers.ReluForward(activation);
            Span<float> next = a.Layer(l + 1, rows);
            if (a.KeepsLayers)
            {
                z.CopyTo(next);
            }
            Layers.LinearForward(activation, tables.DownPacked[l], next, rows, threads, accumulate: true);
            z = next;
        }
    }

    /// <summary>
    /// Back-propagates through the last <see cref="Forward"/> of <paramref name="n"/> rows with one codeword per slot:
    /// adds the parameter gradients to <paramref name="gradients"/> and <c>∂ℒ/∂x̂</c> to <paramref name="dXhat"/>.
    /// </summary>
    /// <param name="codes">Shape [n]: the codeword of each row.</param>
    /// <param name="xhat">Shape [n, D]: the forward input.</param>
    /// <param name="n">Rows.</param>
    /// <param name="a">The activations of that forward pass (created for training).</param>
    /// <param name="dOutput">Shape [n, D]: ∂ℒ/∂f on entry; overwritten.</param>
    /// <param name="dXhat">Shape [n, D]: receives += ∂ℒ/∂x̂ through the concat layer.</param>
    /// <param name="gradients">Accumulators shaped like <see cref="Parameters"/>.</param>
    public void Backward(ReadOnlySpan<int> codes, ReadOnlySpan<float> xhat, int n, Qinco1Activations a, Span<float> dOutput, Span<float> dXhat, Qinco1StepTensors gradients)
    {
        int d = dimension, h = hidden;
        Span<float> dz = dOutput[..(n * d)];
        Span<float> dh = a.HiddenGradient.AsSpan(0, n * h);
        for (int l = Blocks - 1; l >= 0; l--)
        {
            Span<float> activation = a.Hidden(l, n);
            Layers.LinearBackward(dz, activation, parameters.Down[l], gradients.Down[l], dh, n, h, d, a.Transposed, accumulateInput: false);
            Layers.ReluBackward(activation, dh);
            Layers.LinearBackward(dh, a.Layer(l, n), parameters.Up[l], gradients.Up[l], dz, n, d, h, a.Transposed, accumulateInput: true);
        }
        Span<float> concat = a.Concat.AsSpan(0, n * 2 * d);
        for (int i = 0; i < n; i++)
        {
            parameters.Codebook.AsSpan(codes[i] * d, d).CopyTo(concat.Slice(i * 2 * d, d));
            xhat.Slice(i * d, d).CopyTo(concat.Slice(i * 2 * d + d, d));
        }
        Span<float> dConcat = a.ConcatGradient.AsSpan(0, n * 2 * d);
        Layers.LinearBackward(dz, concat, parameters.ConcatWeight, gradients.ConcatWeight, dConcat, n, 2 * d, d, a.Transposed, accumulateInput: false);
        Layers.AddBiasBackward(dz, gradients.ConcatBias, n, d);
        Layers.ScatterAdd(dz, codes, gradients.Codebook, n, d, d);
        Layers.ScatterAdd(dConcat, codes, gradients.Codebook, n, d, 2 * d);
        for (int i = 0; i < n; i++)
        {
            Span<float> target = dXhat.Slice(i * d, d);
            System.Numerics.Tensors.TensorPrimitives.Add(target, dConcat.Slice(i * 2 * d + d, d), target);
        }
    }
}

/// <summary>The codeword-only terms of one step (ALGORITHM.md §8.1), computed from its parameters by <see cref="Qinco1Step.ComputeTables"/>.</summary>
internal sealed class Qinco1Tables(int dimension, int codebookSize, int hidden)
{
    /// <summary>W_c: the codeword columns of the concat weight, [D, D].</summary>
    public float[] CodewordWeight { get; } = new float[dimension * dimension];

    /// <summary>W_x: the reconstruction columns of the concat weight, [D, D].</summary>
    public float[] ReconstructionWeight { get; } = new float[dimension * dimension];

    /// <summary>T[k] = C[k] + W_c·C[k], [K, D].</summary>
    public float[] CodewordTerm { get; } = new float[codebookSize * dimension];

    /// <summary>S[k] = U_1·T[k], [K, h].</summary>
    public float[] CodewordHidden { get; } = new float[codebookSize * hidden];

    /// <summary>W_x packed for the GEMM.</summary>
    public GemmPackedB ReconstructionPacked { get; private set; } = null!;

    /// <summary>Every block's U_l packed for the GEMM.</summary>
    public GemmPackedB[] UpPacked { get; private set; } = [];

    /// <summary>Every block's V_l packed for the GEMM.</summary>
    public GemmPackedB[] DownPacked { get; private set; } = [];

    /// <summary>Packs the forward pass's weights: the first time into new operands, later into the same ones.</summary>
    public void Pack(float[] reconstructionWeight, float[][] up, float[][] down, int threads)
    {
        if (UpPacked.Length != up.Length || ReconstructionPacked is null)
        {
            ReconstructionPacked = Gemm.PackB(reconstructionWeight, dimension, dimension, transposeB: true, threads);
            UpPacked = Array.ConvertAll(up, u => Gemm.PackB(u, hidden, dimension, transposeB: true, threads));
            DownPacked = Array.ConvertAll(down, v => Gemm.PackB(v, dimension, hidden, transposeB: true, threads));
            return;
        }
        Gemm.Repack(ReconstructionPacked, reconstructionWeight, threads);
        for (int l = 0; l < up.Length; l++)
        {
            Gemm.Repack(UpPacked[l], up[l], threads);
            Gemm.Repack(DownPacked[l], down[l], threads);
        }
    }
}

/// <summary>
/// Activation buffers of <see cref="Qinco1Step.Forward"/>, pooled and grown on demand. Created for inference, every
/// layer shares one buffer (the blocks update z in place); created for training, every layer keeps its own for the
/// backward pass.
/// </summary>
internal sealed class Qinco1Activations(int dimension, int hidden, int blocks, bool keepLayers) : IDisposable
{
    private float[][] _layers = [];
    private float[][] _hidden = [];

    public bool KeepsLayers => keepLayers;

    private float[] _v = [], _q = [], _concat = [], _concatGradient = [], _hiddenGradient = [], _transposed = [];

    /// <summary>v = W_x·x̂ + b per slot, [slots, D].</summary>
    public float[] V => _v;

    /// <summary>q = U_1·v per slot, [slots, h].</summary>
    public float[] Q => _q;

    /// <summary>Training only: [c; x̂] per row, [n, 2D].</summary>
    public float[] Concat => _concat;

    /// <summary>Training only: ∂[c; x̂], [n, 2D].</summary>
    public float[] ConcatGradient => _concatGradient;

    /// <summary>Training only: ∂ of a hidden layer, [n, h].</summary>
    public float[] HiddenGradient => _hiddenGradient;

    /// <summary>Training only: transposes of ∂ for weight gradients, [n · max(D, h)].</summary>
    public float[] Transposed => _transposed;

    /// <summary>z_l, [rows, D] (one shared buffer for inference).</summary>
    public Span<float> Layer(int l, int rows) => _layers[keepLayers ? l : 0].AsSpan(0, rows * dimension);

    /// <summary>ReLU(U_l·z_{l−1}) of block l (0-based), [rows, h].</summary>
    public Span<float> Hidden(int l, int rows) => _hidden[keepLayers ? l : 0].AsSpan(0, rows * hidden);

    /// <summary>The step's output f = z_L, [rows, D].</summary>
    public Span<float> Output(int rows) => Layer(blocks, rows);

    /// <summary>Makes room for <paramref name="rows"/> rows in <paramref name="slots"/> slots.</summary>
    public void Ensure(int rows, int slots)
    {
        Pool.Grow(ref _v, (long)slots * dimension);
        Pool.Grow(ref _q, (long)slots * hidden);
        if (_layers.Length > 0 && _layers[0].Length >= (long)rows * dimension)
        {
            return;
        }
        ReturnLayers();
        _layers = new float[keepLayers ? blocks + 1 : 1][];
        _hidden = new float[keepLayers ? Math.Max(blocks, 1) : 1][];
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l] = Pool.Rent<float>((long)rows * dimension);
        }
        for (int l = 0; l < _hidden.Length; l++)
        {
            _hidden[l] = Pool.Rent<float>((long)rows * hidden);
        }
        if (keepLayers)
        {
            Pool.Grow(ref _concat, (long)rows * 2 * dimension);
            Pool.Grow(ref _concatGradient, (long)rows * 2 * dimension);
            Pool.Grow(ref _hiddenGradient, (long)rows * hidden);
            Pool.Grow(ref _transposed, (long)rows * Math.Max(dimension, hidden));
        }
    }

    public void Dispose()
    {
        ReturnLayers();
        foreach (float[] array in new[] { _v, _q, _concat, _concatGradient, _hiddenGradient, _transposed })
        {
            Pool.Return(array);
        }
        _v = _q = _concat = _concatGradient = _hiddenGradient = _transposed = [];
    }

    private void ReturnLayers()
    {
        foreach (float[] array in _layers)
        {
            Pool.Return(array);
        }
        foreach (float[] array in _hidden)
        {
            Pool.Return(array);
        }
        _layers = _hidden = [];
    }
}
