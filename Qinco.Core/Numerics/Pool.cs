using System;
using System.Buffers;

namespace Qinco.Core.Numerics;

/// <summary>Scratch arrays from <see cref="ArrayPool{T}.Shared"/>: hot paths rent once per call and allocate nothing per step.</summary>
internal static class Pool
{
    /// <summary>An array of at least <paramref name="length"/> (and at least one) elements.</summary>
    /// <exception cref="ArgumentException">One array cannot hold <paramref name="length"/> elements (callers check the options that size their buffers before any work; this is the last guard, not an <see cref="OverflowException"/>).</exception>
    public static T[] Rent<T>(long length)
    {
        if (length > Array.MaxLength)
        {
            ArraySizes.Require(length, System.Runtime.CompilerServices.Unsafe.SizeOf<T>(), $"A scratch buffer of {typeof(T).Name}",
                "Use smaller options (beam width, batch size, tile) or a lower dimension.", nameof(length));
        }
        return ArrayPool<T>.Shared.Rent((int)Math.Max(length, 1));
    }

    /// <summary>Replaces <paramref name="array"/> by a larger pooled one when it holds fewer than <paramref name="length"/> elements (contents are not kept).</summary>
    public static void Grow<T>(ref T[] array, long length)
    {
        if (array.Length < length)
        {
            Return(array);
            array = Rent<T>(length);
        }
    }

    /// <summary>Rents <paramref name="array"/> for a <c>using</c> scope: <c>using var _ = Pool.Lease(n, out float[] buffer);</c>.</summary>
    public static Lease<T> Lease<T>(long length, out T[] array)
    {
        array = Rent<T>(length);
        return new Lease<T>(array);
    }

    /// <summary>Gives a pooled array back; empty arrays (never rented) are ignored.</summary>
    public static void Return<T>(T[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}

/// <summary>A pooled array returned when the scope ends (<see cref="Pool.Lease{T}"/>).</summary>
internal readonly struct Lease<T>(T[] array) : IDisposable
{
    public void Dispose() => Pool.Return(array);
}
