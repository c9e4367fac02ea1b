using System;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The layers QINCo's step networks are made of, as forward/backward pairs on row-major spans. A batch is n rows;
/// weights are stored <c>[out, in]</c> as in PyTorch (ALGORITHM.md §0.2). Backward functions add into weight
/// gradients (the caller zeroes them once per batch).
/// </summary>
internal static class Layers
{
    /// <summary>Linear layer without bias: <c>y = x·Wᵀ</c>, or <c>y += x·Wᵀ</c> with <paramref name="accumulate"/>.</summary>
    /// <param name="x">Shape [n, in].</param>
    /// <param name="weight">Shape [out, in].</param>
    /// <param name="y">Shape [n, out].</param>
    /// <param name="n">Rows.</param>
    /// <param name="inputs">in.</param>
    /// <param name="outputs">out.</param>
    /// <param name="threads">Threads of the GEMM (results do not depend on it).</param>
    /// <param name="accumulate">Whether to add to <paramref name="y"/> instead of overwriting it.</param>
    public static void LinearForward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, int n, int inputs, int outputs, int threads, bool accumulate = false) =>
        Gemm.Multiply(x, weight, y, n, outputs, inputs, transposeB: true, beta: accumulate ? 1f : 0f, maxDegreeOfParallelism: threads);

    /// <summary>Linear layer without bias with the weight packed once (<see cref="Gemm.PackB"/>): bit for bit the unpacked <see cref="LinearForward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, bool)"/>.</summary>
    /// <param name="x">Shape [n, in].</param>
    /// <param name="weight">W [out, in], packed transposed.</param>
    /// <param name="y">Shape [n, out].</param>
    /// <param name="n">Rows.</param>
    /// <param name="threads">Threads of the GEMM (results do not depend on it).</param>
    /// <param name="accumulate">Whether to add to <paramref name="y"/> instead of overwriting it.</param>
    public static void LinearForward(ReadOnlySpan<float> x, GemmPackedB weight, Span<float> y, int n, int threads, bool accumulate = false) =>
        Gemm.Multiply(x, weight, y, n, beta: accumulate ? 1f : 0f, maxDegreeOfParallelism: threads);

    /// <summary>
    /// Backward of <see cref="LinearForward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, bool)"/>: <c>∂W += ∂yᵀ·x</c> and <c>∂x = ∂y·W</c> (or <c>∂x += ∂y·W</c> with
    /// <paramref name="accumulateInput"/>).
    /// </summary>
    /// <param name="dy">Shape [n, out].</param>
    /// <param name="x">Shape [n, in]: the forward input.</param>
    /// <param name="weight">Shape [out, in].</param>
    /// <param name="dWeight">Shape [out, in], accumulated.</param>
    /// <param name="dx">Shape [n, in].</param>
    /// <param name="n">Rows.</param>
    /// <param name="inputs">in.</param>
    /// <param name="outputs">out.</param>
    /// <param name="transposed">Scratch of at least n·out floats for ∂yᵀ.</param>
    /// <param name="accumulateInput">Whether to add to <paramref name="dx"/>.</param>
    public static void LinearBackward(
        ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> dWeight, Span<float> dx,
        int n, int inputs, int outputs, float[] transposed, bool accumulateInput)
    {
        Transpose(dy, n, outputs, transposed);
        Gemm.Multiply(transposed.AsSpan(0, outputs * n), x, dWeight, outputs, inputs, n, beta: 1f, maxDegreeOfParallelism: 1);
        Gemm.Multiply(dy, weight, dx, n, inputs, outputs, beta: accumulateInput ? 1f : 0f, maxDegreeOfParallelism: 1);
    }

    /// <summary>ReLU in place: <c>a = max(a, 0)</c>.</summary>
    public static void ReluForward(Span<float> a) => TensorPrimitives.Max(a, 0f, a);

    /// <summary>Backward of ReLU given its output: <c>∂a = 0</c> where the activation is not positive.</summary>
    /// <param name="activation">The ReLU output.</param>
    /// <param name="gradient">∂ of the output on entry, ∂ of the input on exit; as long as <paramref name="activation"/>.</param>
    public static void ReluBackward(ReadOnlySpan<float> activation, Span<float> gradient)
    {
        for (int i = 0; i < gradient.Length; i++)
        {
            if (activation[i] <= 0f)
            {
                gradient[i] = 0f;
            }
        }
    }

    /// <summary>
    /// Embedding lookup plus a per-slot term: <c>y[r] = table[codes[r]] + perSlot[r / rowsPerSlot]</c> (ALGORITHM.md §8.1:
    /// the codeword-only part of a layer comes from a table, the reconstruction-dependent part once per beam).
    /// </summary>
    /// <param name="table">Shape [K, width].</param>
    /// <param name="codes">Shape [rows]: indices into the table, or empty for <c>r mod rowsPerSlot</c> (every codeword per slot).</param>
    /// <param name="perSlot">Shape [rows / rowsPerSlot, width].</param>
    /// <param name="rows">Rows.</param>
    /// <param name="rowsPerSlot">Consecutive rows sharing one slot.</param>
    /// <param name="width">Row length.</param>
    /// <param name="y">Shape [rows, width].</param>
    public static void GatherAdd(ReadOnlySpan<float> table, ReadOnlySpan<int> codes, ReadOnlySpan<float> perSlot, int rows, int rowsPerSlot, int width, Span<float> y)
    {
        for (int row = 0; row < rows; row++)
        {
            int slot = row / rowsPerSlot;
            int code = codes.IsEmpty ? row - slot * rowsPerSlot : codes[row];
            TensorPrimitives.Add(table.Slice(code * width, width), perSlot.Slice(slot * width, width), y.Slice(row * width, width));
        }
    }

    /// <summary>Adds <paramref name="bias"/> [width] to each of the <paramref name="rows"/> rows of <paramref name="y"/>.</summary>
    public static void AddBias(Span<float> y, ReadOnlySpan<float> bias, int rows, int width)
    {
        for (int row = 0; row < rows; row++)
        {
            Span<float> r = y.Slice(row * width, width);
            TensorPrimitives.Add(r, bias, r);
        }
    }

    /// <summary>Backward of <see cref="AddBias"/>: <c>∂bias += Σ_rows ∂y</c>.</summary>
    public static void AddBiasBackward(ReadOnlySpan<float> dy, Span<float> dBias, int rows, int width)
    {
        for (int row = 0; row < rows; row++)
        {
            TensorPrimitives.Add(dBias, dy.Slice(row * width, width), dBias);
        }
    }

    /// <summary>Backward of an embedding lookup: <c>∂table[codes[r]] += ∂y[r]</c>.</summary>
    /// <param name="dy">Shape [rows, width].</param>
    /// <param name="codes">Shape [rows].</param>
    /// <param name="dTable">Shape [K, width], accumulated.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="width">Row length.</param>
    /// <param name="rowStride">Distance between rows of <paramref name="dy"/> (width for a dense matrix).</param>
    public static void ScatterAdd(ReadOnlySpan<float> dy, ReadOnlySpan<int> codes, Span<float> dTable, int rows, int width, int rowStride)
    {
        for (int row = 0; row < rows; row++)
        {
            Span<float> target = dTable.Slice(codes[row] * width, width);
            TensorPrimitives.Add(target, dy.Slice(row * rowStride, width), target);
        }
    }

    /// <summary>Copies the rows <paramref name="codes"/> of <paramref name="table"/> [K, width] into <paramref name="y"/> [rows, width].</summary>
    public static void Gather(ReadOnlySpan<float> table, ReadOnlySpan<int> codes, Span<float> y, int rows, int width)
    {
        for (int row = 0; row < rows; row++)
        {
            table.Slice(codes[row] * width, width).CopyTo(y.Slice(row * width, width));
        }
    }

    private static void Transpose(ReadOnlySpan<float> source, int rows, int columns, float[] destination)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                destination[j * rows + i] = source[i * columns + j];
            }
        }
    }
}
