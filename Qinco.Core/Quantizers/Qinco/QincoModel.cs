using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace Qinco.Core;

/// <summary>A named tensor of a model, as stored in model files and handed to the trainer.</summary>
/// <param name="Name">The tensor's name in the model file (and the reference's state dict, ALGORITHM.md §7.1).</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Values">Row-major values (the live array, not a copy).</param>
internal sealed record ModelTensor(string Name, int[] Shape, float[] Values);

/// <summary>
/// A QINCo1 model (ALGORITHM.md §1), in normalised units (data divided by <see cref="Scale"/>): the step-0 codebook and
/// M − 1 neural steps (<see cref="Qinco1Step"/>). Decoding is <c>x̂_0 = C_0[k_0]</c>, <c>x̂_m = x̂_{m−1} + f_m(C_m[k_m], x̂_{m−1})</c>.
/// </summary>
internal sealed class QincoModel
{
    private readonly Qinco1Step[] _steps; // index m − 1 for step m

    /// <summary>Builds the model around tensors supplied by <paramref name="tensor"/> (name, shape) in model-file order.</summary>
    /// <param name="dimension">D.</param>
    /// <param name="codebookSize">K of the neural steps.</param>
    /// <param name="steps">Code indices, step 0 included.</param>
    /// <param name="blocks">L.</param>
    /// <param name="hidden">h.</param>
    /// <param name="scale">s.</param>
    /// <param name="tensor">Supplies each tensor's values from its name and shape.</param>
    /// <param name="firstCodebookSize">Rows of C_0: K, or the IVF list count.</param>
    public QincoModel(int dimension, int codebookSize, int steps, int blocks, int hidden, float scale, Func<string, int[], float[]> tensor, int? firstCodebookSize = null)
    {
        FirstCodebookSize = firstCodebookSize ?? codebookSize;
        Dimension = dimension;
        CodebookSize = codebookSize;
        Steps = steps;
        Blocks = blocks;
        Hidden = hidden;
        Scale = scale;
        var tensors = new List<ModelTensor>();
        float[] Add(string name, params int[] shape)
        {
            float[] values = tensor(name, shape);
            tensors.Add(new ModelTensor(name, shape, values));
            return values;
        }
        Codebook0 = Add("codebook0", FirstCodebookSize, dimension);
        _steps = new Qinco1Step[steps - 1];
        for (int m = 1; m < steps; m++)
        {
            float[] codebook = Add($"step{m}.codebook", codebookSize, dimension);
            float[] weight = Add($"step{m}.concat.weight", dimension, 2 * dimension);
            float[] bias = Add($"step{m}.concat.bias", dimension);
            var up = new float[blocks][];
            var down = new float[blocks][];
            for (int l = 0; l < blocks; l++)
            {
                up[l] = Add($"step{m}.block{l}.up", hidden, dimension);
                down[l] = Add($"step{m}.block{l}.down", dimension, hidden);
            }
            _steps[m - 1] = new Qinco1Step(dimension, codebookSize, hidden, new Qinco1StepTensors(codebook, weight, bias, up, down));
        }
        Tensors = tensors;
    }

    public int Dimension { get; }

    /// <summary>K of the neural steps.</summary>
    public int CodebookSize { get; }

    /// <summary>Rows of <see cref="Codebook0"/>: K, or the IVF list count.</summary>
    public int FirstCodebookSize { get; }

    public int Steps { get; }

    public int Blocks { get; }

    public int Hidden { get; }

    /// <summary>The data scale s: the model sees x / s (ALGORITHM.md §1.1).</summary>
    public float Scale { get; }

    /// <summary>C_0, [<see cref="FirstCodebookSize"/>, D]: the step-0 codebook, or the IVF centroids.</summary>
    public float[] Codebook0 { get; }

    /// <summary>Every tensor in model-file order (the parameter order of training and checkpoints).</summary>
    public IReadOnlyList<ModelTensor> Tensors { get; }

    public long ParameterCount
    {
        get
        {
            long total = 0;
            foreach (ModelTensor t in Tensors)
            {
                total += t.Values.Length;
            }
            return total;
        }
    }

    /// <summary>The public description of this model (<see cref="QincoModelDescription"/>).</summary>
    /// <param name="search">The encoder's search.</param>
    /// <param name="firstBeams">Beams kept after the first step the encoder runs.</param>
    /// <param name="copy">Copy the values (a snapshot); otherwise they are views of the live arrays.</param>
    public QincoModelDescription Describe(EncoderSearch search, int firstBeams, bool copy)
    {
        var tensors = new QincoTensor[Tensors.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            ModelTensor t = Tensors[i];
            tensors[i] = new QincoTensor(t.Name, t.Shape, copy ? (float[])t.Values.Clone() : t.Values);
        }
        return new QincoModelDescription("qinco1", Dimension, CodebookSize, FirstCodebookSize, Steps, Blocks, Hidden, Scale, search, firstBeams, tensors);
    }

    /// <summary>A zero-filled model.</summary>
    public static QincoModel Zeros(int dimension, int codebookSize, int steps, int blocks, int hidden, float scale, int? firstCodebookSize = null) =>
        new(dimension, codebookSize, steps, blocks, hidden, scale, static (_, shape) => new float[Size(shape)], firstCodebookSize);

    /// <summary>The neural step m (1..M−1).</summary>
    public Qinco1Step Step(int m) => _steps[m - 1];

    /// <summary>Tables of every neural step computed from the current parameters (index m; index 0 unused).</summary>
    public Qinco1Tables[] CreateTables(int threads)
    {
        var tables = new Qinco1Tables[Steps];
        for (int m = 1; m < Steps; m++)
        {
            tables[m] = new Qinco1Tables(Dimension, CodebookSize, Hidden);
            _steps[m - 1].ComputeTables(tables[m], threads);
        }
        return tables;
    }

    /// <summary>Recomputes <paramref name="tables"/> (from <see cref="CreateTables"/>) after the parameters changed.</summary>
    public void RefreshTables(Qinco1Tables[] tables, int threads)
    {
        for (int m = 1; m < Steps; m++)
        {
            _steps[m - 1].ComputeTables(tables[m], threads);
        }
    }

    /// <summary>
    /// Decodes <paramref name="n"/> codes (unpacked, [n, M]) using their first <paramref name="steps"/> indices into
    /// normalised reconstructions [n, D] (zeros for 0 indices).
    /// </summary>
    public void Decode(Qinco1Tables[] tables, ReadOnlySpan<int> codes, int n, int steps, Span<float> reconstruction, Qinco1Activations activations, int[] stepCodes)
    {
        int d = Dimension;
        Span<float> xhat = reconstruction[..(n * d)];
        if (steps == 0)
        {
            xhat.Clear();
            return;
        }
        for (int i = 0; i < n; i++)
        {
            Codebook0.AsSpan(codes[i * Steps] * d, d).CopyTo(xhat.Slice(i * d, d));
        }
        for (int m = 1; m < steps; m++)
        {
            for (int i = 0; i < n; i++)
            {
                stepCodes[i] = codes[i * Steps + m];
            }
            _steps[m - 1].Forward(tables[m], stepCodes.AsSpan(0, n), xhat, n, 1, activations, threads: 1);
            TensorPrimitives.Add(xhat, activations.Output(n), xhat);
        }
    }

    /// <summary>
    /// Initialises the layers. <paramref name="zeroInit"/>: concat weight and bias and every down-projection are zero,
    /// so every step computes f(c, x̂) = c and the model is exactly the residual quantizer its codebooks came from
    /// (ALGORITHM.md §1.7 [REC]); the up-projections still get PyTorch's default init so training can move off zero.
    /// Otherwise every layer gets PyTorch's default U(−1/√fan_in, 1/√fan_in) (the reference recipe).
    /// </summary>
    public void InitializeLayers(bool zeroInit, int seed)
    {
        var random = new Random(seed);
        int d = Dimension;
        foreach (Qinco1Step step in _steps)
        {
            Qinco1StepTensors p = step.Parameters;
            FillUniform(p.ConcatWeight, zeroInit ? 0 : 1 / MathF.Sqrt(2 * d), random);
            FillUniform(p.ConcatBias, zeroInit ? 0 : 1 / MathF.Sqrt(2 * d), random);
            for (int l = 0; l < Blocks; l++)
            {
                FillUniform(p.Up[l], 1 / MathF.Sqrt(d), random);
                FillUniform(p.Down[l], zeroInit ? 0 : 1 / MathF.Sqrt(Hidden), random);
            }
        }
    }

    private static void FillUniform(float[] values, float bound, Random random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            // Draw even when the bound is 0 so both inits consume the same random stream.
            float u = (float)random.NextDouble();
            values[i] = bound == 0 ? 0 : (2 * u - 1) * bound;
        }
    }

    private static int Size(int[] shape)
    {
        long size = 1;
        foreach (int dim in shape)
        {
            size *= dim;
        }
        return checked((int)size);
    }
}
