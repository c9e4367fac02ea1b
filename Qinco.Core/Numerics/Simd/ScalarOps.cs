using System.Runtime.CompilerServices;

namespace Qinco.Core.Numerics;

/// <summary>One float at a time; <see cref="MultiplyAdd"/> multiplies then adds (two roundings), like <see cref="SgemmScalarKernel"/>.</summary>
internal readonly struct ScalarOps : ISimdOps<float>
{
    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadUnsafe(ref float source, nuint elementOffset) => Unsafe.Add(ref source, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float value, float* destination) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAddEstimate(float a, float b, float c) => (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ZeroLanesBelow(float value, int firstKept) => firstKept <= 0 ? value : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LesserOf(float candidate, float current) => candidate < current ? candidate : current;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MinAcross(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LessThanBits(float a, float b) => a < b ? 1UL : 0UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EqualBits(float a, float b) => a == b ? 1UL : 0UL;
}
