using System;
using System.Numerics.Tensors;

namespace Qinco.Core.Numerics;

/// <summary>The power-of-two scale the library divides data by so that float32 squared distances neither overflow nor underflow.</summary>
internal static class MagnitudeScale
{
    /// <summary>
    /// The power of two to divide <paramref name="data"/> by: 1 for data whose largest magnitude lies within
    /// 2^-20..2^20 (results are bit-identical to no scaling), else about the largest magnitude, so float32 squared
    /// distances never overflow or underflow whatever the data's scale (the scaling is exact).
    /// </summary>
    public static float PowerOfTwo(ReadOnlySpan<float> data) => ForLargest(Largest(data));

    /// <summary>The scale of <see cref="PowerOfTwo"/> for data whose largest magnitude is <paramref name="max"/>.</summary>
    public static float ForLargest(float max) =>
        max == 0f || (max >= 9.5367431640625E-07f && max <= 1048576f) ? 1f : MathF.ScaleB(1f, MathF.ILogB(max));

    /// <summary>A copy of <paramref name="data"/> divided by <paramref name="scale"/> (a power of two: exact).</summary>
    public static float[] Divided(ReadOnlySpan<float> data, float scale)
    {
        var scaled = new float[data.Length];
        TensorPrimitives.Divide(data, scale, scaled);
        return scaled;
    }

    /// <summary>The largest magnitude in <paramref name="data"/> (0 when empty).</summary>
    public static float Largest(ReadOnlySpan<float> data) => data.IsEmpty ? 0f : Math.Abs(TensorPrimitives.MaxMagnitude(data));
}
