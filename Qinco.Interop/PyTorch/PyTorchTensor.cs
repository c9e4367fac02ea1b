using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Qinco.Core;

namespace Qinco.Interop;

/// <summary>The element type of a PyTorch tensor's storage (the <c>torch.*Storage</c> class its pickle names).</summary>
public enum PyTorchDType
{
    /// <summary><c>torch.float32</c> (<c>FloatStorage</c>), 4 bytes.</summary>
    Float32,

    /// <summary><c>torch.float64</c> (<c>DoubleStorage</c>), 8 bytes.</summary>
    Float64,

    /// <summary><c>torch.float16</c> (<c>HalfStorage</c>), 2 bytes, IEEE half precision.</summary>
    Float16,

    /// <summary><c>torch.bfloat16</c> (<c>BFloat16Storage</c>), 2 bytes: the upper half of a float32.</summary>
    BFloat16,

    /// <summary><c>torch.int64</c> (<c>LongStorage</c>), 8 bytes.</summary>
    Int64,

    /// <summary><c>torch.int32</c> (<c>IntStorage</c>), 4 bytes.</summary>
    Int32,

    /// <summary><c>torch.int16</c> (<c>ShortStorage</c>), 2 bytes.</summary>
    Int16,

    /// <summary><c>torch.int8</c> (<c>CharStorage</c>), 1 byte.</summary>
    Int8,

    /// <summary><c>torch.uint8</c> (<c>ByteStorage</c>), 1 byte.</summary>
    UInt8,

    /// <summary><c>torch.bool</c> (<c>BoolStorage</c>), 1 byte, 0 or 1.</summary>
    Bool,
}

/// <summary>
/// A tensor read from a PyTorch file: a view (offset, shape, strides, in elements) of one storage record of the
/// archive, checked against the storage's length when the pickle built it. Values are converted on request
/// (<see cref="ToSingle"/>, <see cref="ToInt64"/>), into a new row-major array each time.
/// </summary>
public sealed class PyTorchTensor
{
    /// <summary>The most dimensions a tensor may have.</summary>
    public const int MaxRank = 32;

    private readonly TorchStorage _storage;
    private readonly long _offset;
    private readonly int[] _shape;
    private readonly long[] _strides;

    /// <summary>Checks the view against the storage: every index it reaches lies inside, and it has no more elements than the storage (so converting it never allocates more than the file holds).</summary>
    internal PyTorchTensor(TorchStorage storage, long offset, int[] shape, long[] strides)
    {
        _storage = storage;
        _offset = offset;
        _shape = shape;
        _strides = strides;
        string Where() => $"{storage.Source}: the tensor of shape [{string.Join(", ", shape)}], strides [{string.Join(", ", strides)}] at offset {offset} in storage '{storage.Key}' ({storage.Count} {storage.DType} elements)";
        if (offset < 0 || shape.Length != strides.Length || shape.Length > MaxRank || Array.Exists(shape, d => d < 0) || Array.Exists(strides, s => s < 0))
        {
            throw new ModelFormatException($"{Where()} is malformed: a negative offset, size or stride, or shape and strides of different or too many dimensions.");
        }
        const long Cap = 1L << 62;
        long count = 1;
        foreach (int dim in shape)
        {
            count = dim == 0 ? 0 : count > Cap / dim ? Cap : count * dim;
        }
        if (count > 0)
        {
            long last = offset;
            for (int i = 0; i < shape.Length; i++)
            {
                // Each term is checked against what is left of the storage before it is added, so nothing overflows.
                if (shape[i] > 1 && strides[i] > (storage.Count - 1 - last) / (shape[i] - 1))
                {
                    throw new ModelFormatException($"{Where()} reaches past the end of its storage.");
                }
                last += (long)(shape[i] - 1) * strides[i];
            }
            if (last >= storage.Count)
            {
                throw new ModelFormatException($"{Where()} reaches past the end of its storage.");
            }
            if (count > storage.Count)
            {
                throw new ModelFormatException($"{Where()} has more elements than its storage: expanded (stride-0) views are not supported.");
            }
        }
        ElementCount = (int)count;
    }

    /// <summary>The storage's element type.</summary>
    public PyTorchDType DType => _storage.DType;

    /// <summary>Dimensions, outermost first (empty for a scalar).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public int ElementCount { get; }

    /// <summary>Whether the dtype is a floating-point one (<see cref="PyTorchDType.Float32"/>, <see cref="PyTorchDType.Float64"/>, <see cref="PyTorchDType.Float16"/>, <see cref="PyTorchDType.BFloat16"/>).</summary>
    public bool IsFloatingPoint => DType is PyTorchDType.Float32 or PyTorchDType.Float64 or PyTorchDType.Float16 or PyTorchDType.BFloat16;

    /// <summary>The values as float32, row-major (a new array). Float16 and bfloat16 convert exactly; float64 and integers round to the nearest float32.</summary>
    public float[] ToSingle()
    {
        var values = new float[ElementCount];
        Gather(values, static (storage, index) => storage.ReadSingle(index));
        return values;
    }

    /// <summary>The values as int64, row-major (a new array).</summary>
    /// <exception cref="InvalidOperationException">The dtype is a floating-point one.</exception>
    public long[] ToInt64()
    {
        if (IsFloatingPoint)
        {
            throw new InvalidOperationException($"The tensor holds {DType} values; ToInt64 reads integer (and bool) tensors only. Use ToSingle.");
        }
        var values = new long[ElementCount];
        Gather(values, static (storage, index) => storage.ReadInt64(index));
        return values;
    }

    /// <inheritdoc/>
    public override string ToString() => $"tensor {DType} [{string.Join(", ", _shape)}]";

    /// <summary>Copies the view's elements in row-major order (an odometer over the shape, strides in elements).</summary>
    private void Gather<T>(T[] destination, Func<TorchStorage, long, T> read)
    {
        if (destination.Length == 0)
        {
            return;
        }
        int rank = _shape.Length;
        var index = new int[rank];
        long position = _offset;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = read(_storage, position);
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < _shape[d])
                {
                    position += _strides[d];
                    break;
                }
                position -= (long)(_shape[d] - 1) * _strides[d];
                index[d] = 0;
            }
        }
    }
}

/// <summary>One storage record of a PyTorch archive (<c>data/{key}</c>): <see cref="Count"/> elements of <see cref="DType"/>, little-endian.</summary>
internal sealed class TorchStorage(string source, string key, PyTorchDType dtype, byte[] bytes)
{
    /// <summary>The file the storage came from, for messages.</summary>
    public string Source => source;

    public string Key => key;

    public PyTorchDType DType => dtype;

    public long Count => bytes.Length / SizeOf(dtype);

    public static int SizeOf(PyTorchDType type) => type switch
    {
        PyTorchDType.Float64 or PyTorchDType.Int64 => 8,
        PyTorchDType.Float32 or PyTorchDType.Int32 => 4,
        PyTorchDType.Float16 or PyTorchDType.BFloat16 or PyTorchDType.Int16 => 2,
        _ => 1,
    };

    public float ReadSingle(long index)
    {
        ReadOnlySpan<byte> b = bytes.AsSpan((int)(index * SizeOf(dtype)));
        return dtype switch
        {
            PyTorchDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(b),
            PyTorchDType.Float64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
            PyTorchDType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
            PyTorchDType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
            _ => ReadInt64(index),
        };
    }

    public long ReadInt64(long index)
    {
        ReadOnlySpan<byte> b = bytes.AsSpan((int)(index * SizeOf(dtype)));
        return dtype switch
        {
            PyTorchDType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
            PyTorchDType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
            PyTorchDType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
            PyTorchDType.Int8 => (sbyte)b[0],
            _ => b[0],
        };
    }
}
