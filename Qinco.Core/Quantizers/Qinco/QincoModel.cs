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
/// A QINCo model (ALGORITHM.md §1, §5) in normalised units, <c>x̃ = (x − μ)/σ</c> (QINCo1: μ = 0, σ = the largest
/// training value, §1.1; QINCo2: per-dimension mean and one global standard deviation, §5.2): the step-0 codebook
/// (or the frozen IVF centroids) and M − 1 neural steps (<see cref="QincoStep"/>). Decoding is
/// <c>x̂_0 = C_0[k_0]</c>, <c>x̂_m = x̂_{m−1} + f_m(C_m[k_m], x̂_{m−1})</c>, output <c>σ·x̂ + μ</c>.
/// </summary>
internal sealed class QincoModel
{
    private readonly QincoStep[] _steps; // index m − 1 for step m

    /// <summary>Builds the model around tensors supplied by <paramref name="tensor"/> (name, shape) in model-file order.</summary>
    /// <param name="stepShape">The shape of every neural step.</param>
    /// <param name="steps">Code indices, step 0 included.</param>
    /// <param name="scale">σ (QINCo1: s).</param>
    /// <param name="mean">μ, [D], or null for 0.</param>
    /// <param name="tensor">Supplies each tensor's values from its name and shape.</param>
    /// <param name="firstCodebookSize">Rows of C_0: K, or the IVF list count.</param>
    public QincoModel(QincoStepShape stepShape, int steps, float scale, float[]? mean, Func<string, int[], float[]> tensor, int? firstCodebookSize = null)
    {
        StepShape = stepShape;
        Steps = steps;
        Scale = scale;
        Mean = mean;
        int d = stepShape.Dimension, k = stepShape.CodebookSize, de = stepShape.Embedding, h = stepShape.Hidden;
        FirstCodebookSize = firstCodebookSize ?? k;
        var tensors = new List<ModelTensor>();
        float[] Add(string name, params int[] shape)
        {
            float[] values = tensor(name, shape);
            tensors.Add(new ModelTensor(name, shape, values));
            return values;
        }
        Codebook0 = Add("codebook0", FirstCodebookSize, d);
        _steps = new QincoStep[steps - 1];
        for (int m = 1; m < steps; m++)
        {
            float[] codebook = Add($"step{m}.codebook", k, d);
            float[]? preselection = stepShape.Preselection ? Add($"step{m}.preselection", k, d) : null;
            float[]? inProjection = stepShape.Projections ? Add($"step{m}.in_proj", de, d) : null;
            float[]? outProjection = stepShape.Projections ? Add($"step{m}.out_proj", d, de) : null;
            float[] weight = Add($"step{m}.concat.weight", de, de + d);
            float[] bias = Add($"step{m}.concat.bias", de);
            var up = new float[stepShape.Blocks][];
            var down = new float[stepShape.Blocks][];
            for (int l = 0; l < stepShape.Blocks; l++)
            {
                up[l] = Add($"step{m}.block{l}.up", h, de);
                down[l] = Add($"step{m}.block{l}.down", de, h);
            }
            _steps[m - 1] = new QincoStep(stepShape, new QincoStepTensors(codebook, preselection, inProjection, outProjection, weight, bias, up, down));
        }
        Tensors = tensors;
    }

    public QincoStepShape StepShape { get; }

    public int Dimension => StepShape.Dimension;

    /// <summary>K of the neural steps.</summary>
    public int CodebookSize => StepShape.CodebookSize;

    /// <summary>Rows of <see cref="Codebook0"/>: K, or the IVF list count.</summary>
    public int FirstCodebookSize { get; }

    public int Steps { get; }

    public int Blocks => StepShape.Blocks;

    /// <summary>σ: the model sees <c>(x − μ)/σ</c>.</summary>
    public float Scale { get; }

    /// <summary>μ, [D], or null for 0 (QINCo1).</summary>
    public float[]? Mean { get; }

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

    /// <summary>A zero-filled model.</summary>
    public static QincoModel Zeros(QincoStepShape stepShape, int steps, float scale, float[]? mean, int? firstCodebookSize = null) =>
        new(stepShape, steps, scale, mean, static (_, shape) => new float[Size(shape)], firstCodebookSize);

    /// <summary>The neural step m (1..M−1).</summary>
    public QincoStep Step(int m) => _steps[m - 1];

    /// <summary>Writes <c>(x − μ)/σ</c> of <paramref name="data"/> into <paramref name="destination"/> (same length; may be the same span).</summary>
    public void Normalise(ReadOnlySpan<float> data, Span<float> destination)
    {
        if (Mean is null)
        {
            TensorPrimitives.Divide(data, Scale, destination);
            return;
        }
        int d = Dimension;
        for (int i = 0; i < data.Length; i += d)
        {
            Span<float> row = destination.Slice(i, d);
            TensorPrimitives.Subtract(data.Slice(i, d), Mean, row);
            TensorPrimitives.Divide(row, Scale, row);
        }
    }

    /// <summary>Writes <c>σ·x̃ + μ</c> in place.</summary>
    public void Denormalise(Span<float> values)
    {
        TensorPrimitives.Multiply(values, Scale, values);
        if (Mean is not null)
        {
            for (int i = 0; i < values.Length; i += Dimension)
            {
                Span<float> row = values.Slice(i, Dimension);
                TensorPrimitives.Add(row, Mean, row);
            }
        }
    }

    /// <summary>Tables of every neural step computed from the current parameters (index m; index 0 unused).</summary>
    public QincoStepTables[] CreateTables(int threads)
    {
        var tables = new QincoStepTables[Steps];
        for (int m = 1; m < Steps; m++)
        {
            tables[m] = new QincoStepTables(StepShape);
            _steps[m - 1].ComputeTables(tables[m], threads);
        }
        return tables;
    }

    /// <summary>Recomputes <paramref name="tables"/> (from <see cref="CreateTables"/>) after the parameters changed.</summary>
    public void RefreshTables(QincoStepTables[] tables, int threads)
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
    public void Decode(QincoStepTables[] tables, ReadOnlySpan<int> codes, int n, int steps, Span<float> reconstruction, QincoActivations activations, int[] stepCodes)
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
    /// Initialises the layers (the codebooks already hold the RQ start). QINCo1 (§1.7): <paramref name="zeroInit"/> sets
    /// the concat layer and every down-projection to zero, so every step computes f(c, x̂) = c and the model is exactly
    /// its RQ ([REC]); the up-projections get PyTorch's default init so training can move off zero; without it every
    /// layer gets PyTorch's default U(−1/√fan_in, 1/√fan_in), the reference recipe. QINCo2 (§5.6): concat layer and
    /// down-projections zero, up- and in/out-projections Kaiming-uniform; <paramref name="zeroInit"/> gives the exact-RQ
    /// start of [REC] (P_out = 0, or the codeword block of the concat weight −I when De = D), otherwise the reference's
    /// 10 % Gaussian noise on the codebooks. Every pre-selection codebook starts as its base codebook.
    /// </summary>
    public void InitializeLayers(bool zeroInit, int seed)
    {
        var random = new Random(seed);
        int d = Dimension, de = StepShape.Embedding;
        bool qinco2 = StepShape.CodewordSkip != 0f;
        foreach (QincoStep step in _steps)
        {
            QincoStepTensors p = step.Parameters;
            if (!qinco2)
            {
                FillUniform(p.ConcatWeight, zeroInit ? 0 : 1 / MathF.Sqrt(2 * d), random);
                FillUniform(p.ConcatBias, zeroInit ? 0 : 1 / MathF.Sqrt(2 * d), random);
                for (int l = 0; l < Blocks; l++)
                {
                    FillUniform(p.Up[l], 1 / MathF.Sqrt(d), random);
                    FillUniform(p.Down[l], zeroInit ? 0 : 1 / MathF.Sqrt(StepShape.Hidden), random);
                }
                continue;
            }
            Array.Clear(p.ConcatWeight);
            Array.Clear(p.ConcatBias);
            for (int l = 0; l < Blocks; l++)
            {
                FillUniform(p.Up[l], MathF.Sqrt(6f / de), random);
                Array.Clear(p.Down[l]);
            }
            if (p.InProjection is not null)
            {
                FillUniform(p.InProjection, MathF.Sqrt(6f / d), random);
                FillUniform(p.OutProjection!, zeroInit ? 0 : MathF.Sqrt(6f / de), random);
            }
            else if (zeroInit)
            {
                for (int i = 0; i < de; i++)
                {
                    p.ConcatWeight[(i * (de + d)) + i] = -1f; // z_0 = c − c = 0, so f = α·c = c
                }
            }
            if (!zeroInit)
            {
                AddRelativeNoise(p.Codebook, 0.1f, random);
            }
            if (p.Preselection is not null)
            {
                p.Codebook.CopyTo(p.Preselection, 0);
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

    /// <summary>values += N(0, (γ·std(values))²), the std over all entries (§5.6, item 2).</summary>
    private static void AddRelativeNoise(float[] values, float gamma, Random random)
    {
        double mean = 0, squares = 0;
        foreach (float v in values)
        {
            mean += v;
            squares += (double)v * v;
        }
        mean /= values.Length;
        double std = Math.Sqrt(Math.Max(0, (squares / values.Length) - (mean * mean)) * values.Length / Math.Max(1, values.Length - 1));
        for (int i = 0; i < values.Length; i++)
        {
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] += (float)(gamma * std * gaussian);
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
