using System;
using System.Collections.Generic;

namespace Qinco.Core;

/// <summary>
/// The parameters of a QINCo1 model (ALGORITHM.md §1.2), all in normalised units (data divided by <see cref="Scale"/>):
/// the step-0 codebook, then for each neural step s = 1..M−1 its base codebook, the concat layer
/// (weight [D, 2D] whose first D columns act on the codeword and last D on the reconstruction, bias [D]) and
/// L residual blocks (up-projection [h, D], down-projection [D, h], no bias). Weights are stored [out, in].
/// </summary>
internal sealed class QincoNetwork
{
    public QincoNetwork(int dimension, int codebookSize, int steps, int blocks, int hidden, float scale)
    {
        Dimension = dimension;
        CodebookSize = codebookSize;
        Steps = steps;
        Blocks = blocks;
        Hidden = hidden;
        Scale = scale;
        var names = new List<string>();
        var shapes = new List<int[]>();
        names.Add("codebook0");
        shapes.Add([codebookSize, dimension]);
        for (int s = 1; s < steps; s++)
        {
            names.Add($"step{s}.codebook");
            shapes.Add([codebookSize, dimension]);
            names.Add($"step{s}.concat.weight");
            shapes.Add([dimension, 2 * dimension]);
            names.Add($"step{s}.concat.bias");
            shapes.Add([dimension]);
            for (int l = 0; l < blocks; l++)
            {
                names.Add($"step{s}.block{l}.up");
                shapes.Add([hidden, dimension]);
                names.Add($"step{s}.block{l}.down");
                shapes.Add([dimension, hidden]);
            }
        }
        Names = names;
        Shapes = shapes;
        Tensors = new float[names.Count][];
        for (int i = 0; i < Tensors.Length; i++)
        {
            Tensors[i] = new float[Size(shapes[i])];
        }
    }

    public int Dimension { get; }

    public int CodebookSize { get; }

    public int Steps { get; }

    public int Blocks { get; }

    public int Hidden { get; }

    /// <summary>The data scale s: the model sees x / s (ALGORITHM.md §1.1).</summary>
    public float Scale { get; }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<int[]> Shapes { get; }

    /// <summary>Parameter values in <see cref="Names"/> order; gradient buffers use the same order and shapes.</summary>
    public float[][] Tensors { get; }

    public int TensorsPerStep => 3 + 2 * Blocks;

    public float[] Codebook0 => Tensors[0];

    public int CodebookIndex(int step) => step == 0 ? 0 : 1 + (step - 1) * TensorsPerStep;

    public int ConcatWeightIndex(int step) => CodebookIndex(step) + 1;

    public int ConcatBiasIndex(int step) => CodebookIndex(step) + 2;

    public int UpIndex(int step, int block) => CodebookIndex(step) + 3 + 2 * block;

    public int DownIndex(int step, int block) => UpIndex(step, block) + 1;

    public float[] Codebook(int step) => Tensors[CodebookIndex(step)];

    public float[] ConcatWeight(int step) => Tensors[ConcatWeightIndex(step)];

    public float[] ConcatBias(int step) => Tensors[ConcatBiasIndex(step)];

    public float[] Up(int step, int block) => Tensors[UpIndex(step, block)];

    public float[] Down(int step, int block) => Tensors[DownIndex(step, block)];

    public long ParameterCount
    {
        get
        {
            long total = 0;
            foreach (float[] t in Tensors)
            {
                total += t.Length;
            }
            return total;
        }
    }

    /// <summary>Zero-filled buffers with the shapes of <see cref="Tensors"/>.</summary>
    public float[][] CreateGradientBuffers()
    {
        var buffers = new float[Tensors.Length][];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new float[Tensors[i].Length];
        }
        return buffers;
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
        for (int s = 1; s < Steps; s++)
        {
            FillUniform(ConcatWeight(s), zeroInit ? 0 : 1 / MathF.Sqrt(2 * d), random);
            FillUniform(ConcatBias(s), zeroInit ? 0 : 1 / MathF.Sqrt(2 * d), random);
            for (int l = 0; l < Blocks; l++)
            {
                FillUniform(Up(s, l), 1 / MathF.Sqrt(d), random);
                FillUniform(Down(s, l), zeroInit ? 0 : 1 / MathF.Sqrt(Hidden), random);
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
        int size = 1;
        foreach (int dim in shape)
        {
            size *= dim;
        }
        return size;
    }
}
