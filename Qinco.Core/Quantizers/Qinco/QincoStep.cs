using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The shape of one QINCo step network (ALGORITHM.md §1.2, §5.1). QINCo1 is the case <c>Embedding = Dimension</c>, no
/// projections, <c>CodewordSkip = 0</c> and no pre-selection codebook.
/// </summary>
/// <param name="Dimension">D, the data dimension.</param>
/// <param name="CodebookSize">K.</param>
/// <param name="Embedding">De, the width inside the step (QINCo2's <c>de</c>; D for QINCo1).</param>
/// <param name="Hidden">Dh (QINCo1's h), the hidden width of the residual blocks.</param>
/// <param name="Blocks">L, residual blocks.</param>
/// <param name="Projections">Whether the codeword is projected in (<c>P_in</c>, [De, D]) and the output out (<c>P_out</c>, [D, De]); QINCo2 has them when De ≠ D.</param>
/// <param name="CodewordSkip">α of (5.4): the output adds α·c (1 for QINCo2, 0 for QINCo1).</param>
/// <param name="Preselection">Whether the step owns a pre-selection codebook C̃ [K, D] (QINCo2, §5.3); otherwise candidates are pre-selected with C.</param>
internal sealed record QincoStepShape(int Dimension, int CodebookSize, int Embedding, int Hidden, int Blocks, bool Projections, float CodewordSkip, bool Preselection)
{
    /// <summary>Whether the output is a separate buffer (a projection or a skip term follows the blocks).</summary>
    public bool SeparateOutput => Projections || CodewordSkip != 0f;
}

/// <summary>
/// The tensors of one QINCo step in model-file order (codebook, pre-selection codebook, input and output projections,
/// concat weight and bias, then each block's up and down projections); the same type holds their gradients.
/// Weights are stored <c>[out, in]</c>.
/// </summary>
/// <param name="Codebook">Base codebook C, shape [K, D].</param>
/// <param name="Preselection">Pre-selection codebook C̃, [K, D], or null.</param>
/// <param name="InProjection">P_in, [De, D], or null.</param>
/// <param name="OutProjection">P_out, [D, De], or null.</param>
/// <param name="ConcatWeight">W, [De, De + D]: columns 0..De−1 act on the (projected) codeword, De.. on x̂.</param>
/// <param name="ConcatBias">b, [De].</param>
/// <param name="Up">Per block the up-projection U_l, [Dh, De].</param>
/// <param name="Down">Per block the down-projection V_l, [De, Dh].</param>
internal sealed record QincoStepTensors(
    float[] Codebook, float[]? Preselection, float[]? InProjection, float[]? OutProjection, float[] ConcatWeight, float[] ConcatBias, float[][] Up, float[][] Down)
{
    /// <summary>The tensors in model-file order (absent ones skipped).</summary>
    public IEnumerable<float[]> InFileOrder()
    {
        foreach (float[]? tensor in new[] { Codebook, Preselection, InProjection, OutProjection, ConcatWeight, ConcatBias })
        {
            if (tensor is not null)
            {
                yield return tensor;
            }
        }
        for (int l = 0; l < Up.Length; l++)
        {
            yield return Up[l];
            yield return Down[l];
        }
    }

    /// <summary>Views one step's worth of tensors of <paramref name="flat"/> (file order) from <paramref name="index"/> on, advancing it.</summary>
    public static QincoStepTensors Take(IReadOnlyList<float[]> flat, ref int index, QincoStepShape shape)
    {
        float[] codebook = flat[index++];
        float[]? preselection = shape.Preselection ? flat[index++] : null;
        float[]? inProjection = shape.Projections ? flat[index++] : null;
        float[]? outProjection = shape.Projections ? flat[index++] : null;
        float[] weight = flat[index++], bias = flat[index++];
        var up = new float[shape.Blocks][];
        var down = new float[shape.Blocks][];
        for (int l = 0; l < shape.Blocks; l++)
        {
            up[l] = flat[index++];
            down[l] = flat[index++];
        }
        return new QincoStepTensors(codebook, preselection, inProjection, outProjection, weight, bias, up, down);
    }
}

/// <summary>
/// A QINCo step network (ALGORITHM.md §1.3, §5.1): <c>e = P_in·c</c> (or c), <c>z_0 = e + W·[e; x̂] + b</c>,
/// <c>z_l = z_{l−1} + V_l·ReLU(U_l·z_{l−1})</c>, <c>f(c, x̂) = P_out·z_L + α·c</c> (or <c>z_L</c>). With De = D, no
/// projections and α = 0 it is QINCo1's step. The forward pass exists once, used by encoding (many candidate
/// codewords per beam), decoding and training; it evaluates the first layers with the hoisting of §8.1: the
/// codeword-only terms <c>T[k] = e_k + W_c·e_k</c> and <c>S[k] = U_1·T[k]</c> come from <see cref="QincoStepTables"/>,
/// and the reconstruction terms <c>v = W_x·x̂ + b</c>, <c>q = U_1·v</c> are computed once per beam.
/// </summary>
/// <param name="shape">The step's shape.</param>
/// <param name="parameters">The step's tensors.</param>
internal sealed class QincoStep(QincoStepShape shape, QincoStepTensors parameters)
{
    public QincoStepShape Shape => shape;

    public QincoStepTensors Parameters => parameters;

    /// <summary>The codebook whose nearest codewords to a beam's residual are pre-selected (§5.3).</summary>
    public float[] SelectionCodebook => parameters.Preselection ?? parameters.Codebook;

    /// <summary>
    /// Computes the codeword-only tables and packs the weights the forward pass multiplies by, from the current
    /// parameters (again after every parameter change: training does it once per optimiser step, without allocating).
    /// </summary>
    public void ComputeTables(QincoStepTables tables, int threads)
    {
        int d = shape.Dimension, de = shape.Embedding, k = shape.CodebookSize, stride = de + d;
        float[] w = parameters.ConcatWeight;
        for (int row = 0; row < de; row++)
        {
            w.AsSpan(row * stride, de).CopyTo(tables.CodewordWeight.AsSpan(row * de, de));
            w.AsSpan(row * stride + de, d).CopyTo(tables.ReconstructionWeight.AsSpan(row * d, d));
        }
        float[] embedded = parameters.Codebook;
        if (parameters.InProjection is { } inProjection)
        {
            Layers.LinearForward(parameters.Codebook, inProjection, tables.Embedded, k, d, de, threads);
            embedded = tables.Embedded;
        }
        embedded.AsSpan(0, k * de).CopyTo(tables.CodewordTerm);
        Layers.LinearForward(embedded, tables.CodewordWeight, tables.CodewordTerm, k, de, de, threads, accumulate: true);
        if (shape.Blocks > 0)
        {
            Layers.LinearForward(tables.CodewordTerm, parameters.Up[0], tables.CodewordHidden, k, de, shape.Hidden, threads);
        }
        tables.Pack(parameters, threads);
    }

    /// <summary>
    /// Evaluates <c>f(C[k], x̂)</c> for <paramref name="slots"/> reconstructions with <paramref name="perSlot"/> codewords
    /// each: row r uses codeword <c>codes[r]</c> (or <c>r mod perSlot</c> when <paramref name="codes"/> is empty) and
    /// x̂ of slot <c>r / perSlot</c>. The result is <see cref="QincoActivations.Output"/> [slots · perSlot, D].
    /// </summary>
    /// <param name="tables">Tables computed from the current parameters.</param>
    /// <param name="codes">Shape [slots · perSlot], or empty.</param>
    /// <param name="xhat">Shape [slots, D].</param>
    /// <param name="slots">Reconstructions.</param>
    /// <param name="perSlot">Codewords per reconstruction.</param>
    /// <param name="a">Where the activations go (every layer kept when it was created for training).</param>
    /// <param name="threads">Threads of the GEMMs.</param>
    public void Forward(QincoStepTables tables, ReadOnlySpan<int> codes, ReadOnlySpan<float> xhat, int slots, int perSlot, QincoActivations a, int threads)
    {
        int d = shape.Dimension, de = shape.Embedding, h = shape.Hidden, rows = slots * perSlot;
        a.Ensure(rows, slots);
        Span<float> v = a.V.AsSpan(0, slots * de);
        Layers.LinearForward(xhat[..(slots * d)], tables.ReconstructionPacked, v, slots, threads);
        Layers.AddBias(v, parameters.ConcatBias, slots, de);
        Span<float> z = a.Layer(0, rows);
        Layers.GatherAdd(tables.CodewordTerm, codes, v, rows, perSlot, de, z);
        if (shape.Blocks > 0)
        {
            Span<float> q = a.Q.AsSpan(0, slots * h);
            Layers.LinearForward(v, tables.UpPacked[0], q, slots, threads);
            Span<float> activation = a.Hidden(0, rows);
            Layers.GatherAdd(tables.CodewordHidden, codes, q, rows, perSlot, h, activation);
            for (int l = 0; l < shape.Blocks; l++)
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
        if (!shape.SeparateOutput)
        {
            return;
        }
        Span<float> output = a.Output(rows);
        if (tables.OutProjectionPacked is { } outProjection)
        {
            Layers.LinearForward(z, outProjection, output, rows, threads);
        }
        else
        {
            z.CopyTo(output);
        }
        if (shape.CodewordSkip != 0f)
        {
            AddCodewords(codes, rows, perSlot, output);
        }
    }

    /// <summary>
    /// Back-propagates through the last <see cref="Forward"/> of <paramref name="n"/> rows with one codeword per slot:
    /// adds the parameter gradients to <paramref name="gradients"/> and <c>∂ℒ/∂x̂</c> to <paramref name="dXhat"/>.
    /// </summary>
    /// <param name="tables">The tables of that forward pass.</param>
    /// <param name="codes">Shape [n]: the codeword of each row.</param>
    /// <param name="xhat">Shape [n, D]: the forward input.</param>
    /// <param name="n">Rows.</param>
    /// <param name="a">The activations of that forward pass (created for training).</param>
    /// <param name="dOutput">Shape [n, D]: ∂ℒ/∂f on entry; overwritten.</param>
    /// <param name="dXhat">Shape [n, D]: receives += ∂ℒ/∂x̂ through the concat layer.</param>
    /// <param name="gradients">Accumulators shaped like <see cref="Parameters"/>.</param>
    public void Backward(QincoStepTables tables, ReadOnlySpan<int> codes, ReadOnlySpan<float> xhat, int n, QincoActivations a, Span<float> dOutput, Span<float> dXhat, QincoStepTensors gradients)
    {
        int d = shape.Dimension, de = shape.Embedding, h = shape.Hidden, width = de + d;
        Span<float> dz = dOutput[..(n * d)];
        if (shape.CodewordSkip != 0f)
        {
            AddScaled(dz, shape.CodewordSkip, codes, n, gradients.Codebook, a.ConcatGradient);
        }
        if (parameters.OutProjection is { } outProjection)
        {
            Span<float> dLatent = a.LatentGradient.AsSpan(0, n * de);
            Layers.LinearBackward(dz, a.Layer(shape.Blocks, n), outProjection, gradients.OutProjection!, dLatent, n, de, d, a.Transposed, accumulateInput: false);
            dz = dLatent;
        }
        Span<float> dh = a.HiddenGradient.AsSpan(0, n * h);
        for (int l = shape.Blocks - 1; l >= 0; l--)
        {
            Span<float> activation = a.Hidden(l, n);
            Layers.LinearBackward(dz, activation, parameters.Down[l], gradients.Down[l], dh, n, h, de, a.Transposed, accumulateInput: false);
            Layers.ReluBackward(activation, dh);
            Layers.LinearBackward(dh, a.Layer(l, n), parameters.Up[l], gradients.Up[l], dz, n, de, h, a.Transposed, accumulateInput: true);
        }
        float[] embedded = parameters.InProjection is null ? parameters.Codebook : tables.Embedded;
        Span<float> concat = a.Concat.AsSpan(0, n * width);
        for (int i = 0; i < n; i++)
        {
            embedded.AsSpan(codes[i] * de, de).CopyTo(concat.Slice(i * width, de));
            xhat.Slice(i * d, d).CopyTo(concat.Slice(i * width + de, d));
        }
        Span<float> dConcat = a.ConcatGradient.AsSpan(0, n * width);
        Layers.LinearBackward(dz, concat, parameters.ConcatWeight, gradients.ConcatWeight, dConcat, n, width, de, a.Transposed, accumulateInput: false);
        Layers.AddBiasBackward(dz, gradients.ConcatBias, n, de);
        if (parameters.InProjection is { } inProjection)
        {
            // ∂e = ∂z_0 + ∂[e; x̂][:De]; then ∂P_in += ∂eᵀ·c and ∂c = ∂e·P_in.
            Span<float> dEmbedded = a.LatentGradient.AsSpan(0, n * de), codewords = a.Concat.AsSpan(0, n * d);
            for (int i = 0; i < n; i++)
            {
                TensorPrimitives.Add(dz.Slice(i * de, de), dConcat.Slice(i * width, de), dEmbedded.Slice(i * de, de));
            }
            Layers.Gather(parameters.Codebook, codes, codewords, n, d);
            Span<float> dCodewords = a.Output(n);
            Layers.LinearBackward(dEmbedded, codewords, inProjection, gradients.InProjection!, dCodewords, n, d, de, a.Transposed, accumulateInput: false);
            Layers.ScatterAdd(dCodewords, codes, gradients.Codebook, n, d, d);
            AddColumns(dConcat, n, width, de, d, dXhat);
            return;
        }
        Layers.ScatterAdd(dz, codes, gradients.Codebook, n, d, d);
        Layers.ScatterAdd(dConcat, codes, gradients.Codebook, n, d, width);
        AddColumns(dConcat, n, width, de, d, dXhat);
    }

    /// <summary>output[r] += α·C[code of r] (α = 1: a plain add).</summary>
    private void AddCodewords(ReadOnlySpan<int> codes, int rows, int perSlot, Span<float> output)
    {
        int d = shape.Dimension;
        for (int row = 0; row < rows; row++)
        {
            int code = codes.IsEmpty ? row % perSlot : codes[row];
            Span<float> target = output.Slice(row * d, d);
            ReadOnlySpan<float> c = parameters.Codebook.AsSpan(code * d, d);
            if (shape.CodewordSkip == 1f)
            {
                TensorPrimitives.Add(target, c, target);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(c, shape.CodewordSkip, target, target);
            }
        }
    }

    /// <summary>∂C[code] += α·∂f for the skip term (through <paramref name="scratch"/> when α ≠ 1).</summary>
    private void AddScaled(ReadOnlySpan<float> dOutput, float alpha, ReadOnlySpan<int> codes, int n, float[] dCodebook, float[] scratch)
    {
        int d = shape.Dimension;
        if (alpha == 1f)
        {
            Layers.ScatterAdd(dOutput, codes, dCodebook, n, d, d);
            return;
        }
        Span<float> scaled = scratch.AsSpan(0, n * d);
        TensorPrimitives.Multiply(dOutput[..(n * d)], alpha, scaled);
        Layers.ScatterAdd(scaled, codes, dCodebook, n, d, d);
    }

    /// <summary>destination[i] += source[i, offset .. offset + count] for the <paramref name="n"/> rows of width <paramref name="width"/>.</summary>
    private static void AddColumns(ReadOnlySpan<float> source, int n, int width, int offset, int count, Span<float> destination)
    {
        for (int i = 0; i < n; i++)
        {
            Span<float> target = destination.Slice(i * count, count);
            TensorPrimitives.Add(target, source.Slice(i * width + offset, count), target);
        }
    }
}

/// <summary>The codeword-only terms of one step (ALGORITHM.md §8.1) and its packed weights, computed by <see cref="QincoStep.ComputeTables"/>.</summary>
internal sealed class QincoStepTables(QincoStepShape shape)
{
    /// <summary>W_c: the codeword columns of the concat weight, [De, De].</summary>
    public float[] CodewordWeight { get; } = new float[shape.Embedding * shape.Embedding];

    /// <summary>W_x: the reconstruction columns of the concat weight, [De, D].</summary>
    public float[] ReconstructionWeight { get; } = new float[shape.Embedding * shape.Dimension];

    /// <summary>e_k = P_in·C[k], [K, De] (empty without projections: e = c).</summary>
    public float[] Embedded { get; } = shape.Projections ? new float[shape.CodebookSize * shape.Embedding] : [];

    /// <summary>T[k] = e_k + W_c·e_k, [K, De].</summary>
    public float[] CodewordTerm { get; } = new float[shape.CodebookSize * shape.Embedding];

    /// <summary>S[k] = U_1·T[k], [K, Dh].</summary>
    public float[] CodewordHidden { get; } = new float[shape.CodebookSize * shape.Hidden];

    /// <summary>W_x packed for the GEMM.</summary>
    public GemmPackedB ReconstructionPacked { get; private set; } = null!;

    /// <summary>Every block's U_l packed for the GEMM.</summary>
    public GemmPackedB[] UpPacked { get; private set; } = [];

    /// <summary>Every block's V_l packed for the GEMM.</summary>
    public GemmPackedB[] DownPacked { get; private set; } = [];

    /// <summary>P_out packed for the GEMM, or null.</summary>
    public GemmPackedB? OutProjectionPacked { get; private set; }

    /// <summary>Packs the forward pass's weights: the first time into new operands, later into the same ones.</summary>
    public void Pack(QincoStepTensors parameters, int threads)
    {
        int d = shape.Dimension, de = shape.Embedding, h = shape.Hidden;
        if (ReconstructionPacked is null)
        {
            ReconstructionPacked = Gemm.PackB(ReconstructionWeight, de, d, transposeB: true, threads);
            UpPacked = Array.ConvertAll(parameters.Up, u => Gemm.PackB(u, h, de, transposeB: true, threads));
            DownPacked = Array.ConvertAll(parameters.Down, v => Gemm.PackB(v, de, h, transposeB: true, threads));
            OutProjectionPacked = parameters.OutProjection is { } p ? Gemm.PackB(p, d, de, transposeB: true, threads) : null;
            return;
        }
        Gemm.Repack(ReconstructionPacked, ReconstructionWeight, threads);
        for (int l = 0; l < parameters.Up.Length; l++)
        {
            Gemm.Repack(UpPacked[l], parameters.Up[l], threads);
            Gemm.Repack(DownPacked[l], parameters.Down[l], threads);
        }
        if (OutProjectionPacked is not null)
        {
            Gemm.Repack(OutProjectionPacked, parameters.OutProjection!, threads);
        }
    }
}

/// <summary>
/// Activation buffers of <see cref="QincoStep.Forward"/>, pooled and grown on demand. Created for inference, every
/// layer shares one buffer (the blocks update z in place); created for training, every layer keeps its own for the
/// backward pass.
/// </summary>
internal sealed class QincoActivations(QincoStepShape shape, bool keepLayers) : IDisposable
{
    private float[][] _layers = [];
    private float[][] _hidden = [];
    private float[] _v = [], _q = [], _output = [], _concat = [], _concatGradient = [], _hiddenGradient = [], _latentGradient = [], _transposed = [];

    public bool KeepsLayers => keepLayers;

    /// <summary>v = W_x·x̂ + b per slot, [slots, De].</summary>
    public float[] V => _v;

    /// <summary>q = U_1·v per slot, [slots, Dh].</summary>
    public float[] Q => _q;

    /// <summary>Training only: [e; x̂] per row, [n, De + D] (also scratch for gathered codewords).</summary>
    public float[] Concat => _concat;

    /// <summary>Training only: ∂[e; x̂], [n, De + D] (also scratch for the skip term's gradient).</summary>
    public float[] ConcatGradient => _concatGradient;

    /// <summary>Training only: ∂ of a hidden layer, [n, Dh].</summary>
    public float[] HiddenGradient => _hiddenGradient;

    /// <summary>Training only, with projections: ∂ of a De-wide layer, [n, De].</summary>
    public float[] LatentGradient => _latentGradient;

    /// <summary>Training only: transposes of ∂ for weight gradients, [n · max(D, De, Dh)].</summary>
    public float[] Transposed => _transposed;

    /// <summary>z_l, [rows, De] (one shared buffer for inference).</summary>
    public Span<float> Layer(int l, int rows) => _layers[keepLayers ? l : 0].AsSpan(0, rows * shape.Embedding);

    /// <summary>ReLU(U_l·z_{l−1}) of block l (0-based), [rows, Dh].</summary>
    public Span<float> Hidden(int l, int rows) => _hidden[keepLayers ? l : 0].AsSpan(0, rows * shape.Hidden);

    /// <summary>The step's output f, [rows, D]: its own buffer when a projection or skip term follows the blocks, else z_L.</summary>
    public Span<float> Output(int rows) => shape.SeparateOutput ? _output.AsSpan(0, rows * shape.Dimension) : Layer(shape.Blocks, rows);

    /// <summary>Makes room for <paramref name="rows"/> rows in <paramref name="slots"/> slots.</summary>
    public void Ensure(int rows, int slots)
    {
        int d = shape.Dimension, de = shape.Embedding, h = shape.Hidden;
        Pool.Grow(ref _v, (long)slots * de);
        Pool.Grow(ref _q, (long)slots * h);
        if (_layers.Length > 0 && _layers[0].Length >= (long)rows * de)
        {
            return;
        }
        ReturnLayers();
        _layers = new float[keepLayers ? shape.Blocks + 1 : 1][];
        _hidden = new float[keepLayers ? Math.Max(shape.Blocks, 1) : 1][];
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l] = Pool.Rent<float>((long)rows * de);
        }
        for (int l = 0; l < _hidden.Length; l++)
        {
            _hidden[l] = Pool.Rent<float>((long)rows * h);
        }
        if (shape.SeparateOutput)
        {
            Pool.Grow(ref _output, (long)rows * d);
        }
        if (keepLayers)
        {
            Pool.Grow(ref _concat, (long)rows * (de + d));
            Pool.Grow(ref _concatGradient, (long)rows * (de + d));
            Pool.Grow(ref _hiddenGradient, (long)rows * h);
            Pool.Grow(ref _latentGradient, shape.Projections ? (long)rows * de : 0);
            Pool.Grow(ref _transposed, (long)rows * Math.Max(Math.Max(d, de), h));
        }
    }

    public void Dispose()
    {
        ReturnLayers();
        foreach (float[] array in new[] { _v, _q, _output, _concat, _concatGradient, _hiddenGradient, _latentGradient, _transposed })
        {
            Pool.Return(array);
        }
        _v = _q = _output = _concat = _concatGradient = _hiddenGradient = _latentGradient = _transposed = [];
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
