using System;
using static TorchSharp.torch;

namespace Qinco.TorchSharp;

/// <summary>Copies between host spans and device tensors (through a CPU staging tensor; never aliasing the span).</summary>
internal static class TorchHost
{
    /// <summary>Copies <paramref name="values"/> into <paramref name="destination"/> (any device, float32, row-major).</summary>
    public static void Upload(ReadOnlySpan<float> values, Tensor destination)
    {
        CheckLength(values.Length, destination);
        using var noGrad = no_grad();
        using Tensor host = empty(destination.shape, ScalarType.Float32, CPU);
        host.data<float>().CopyFrom(values, 0, 0);
        destination.copy_(host);
    }

    /// <summary>Copies <paramref name="source"/> (any device, float32) into <paramref name="destination"/>, row-major.</summary>
    public static void Download(Tensor source, Span<float> destination)
    {
        CheckLength(destination.Length, source);
        using var noGrad = no_grad();
        using Tensor host = source.detach().to(CPU).contiguous();
        host.data<float>().CopyTo(destination, 0, 0);
    }

    /// <summary>A new int64 tensor on <paramref name="device"/> holding <paramref name="values"/>.</summary>
    public static Tensor Indices(ReadOnlySpan<int> values, Device device)
    {
        var widened = new long[values.Length];
        for (int i = 0; i < widened.Length; i++)
        {
            widened[i] = values[i];
        }
        using Tensor host = tensor(widened, ScalarType.Int64, CPU);
        return host.to(device, copy: true);
    }

    private static void CheckLength(int length, Tensor tensor)
    {
        if (length != tensor.numel())
        {
            throw new ArgumentException($"{length} values for a tensor of {tensor.numel()} elements [{string.Join(", ", tensor.shape)}].");
        }
    }
}
