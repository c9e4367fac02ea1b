using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Text;

namespace Qinco.Core.Serialization;

/// <summary>
/// The container every quantizer is saved in: a fixed header (magic, versions, kind, payload length, CRC-32)
/// followed by a payload of named fields. The layout is documented in docs/model-format.md.
/// </summary>
internal sealed class ModelFile
{
    public static ReadOnlySpan<byte> Magic => "QINCOMDL"u8;

    /// <summary>The format version this build writes.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>Files whose minimum-reader version exceeds this are rejected as written by a newer library.</summary>
    public const ushort ReadableVersion = 1;

    public const int HeaderSize = 28;

    /// <summary>No model this library writes comes near this; a larger length is a corrupt header.</summary>
    private const long MaxPayloadBytes = 1L << 34;

    private enum Tag : byte
    {
        End = 0,
        Int64 = 1,
        Float64 = 2,
        String = 3,
        Float32Tensor = 4,
        Int32Tensor = 5,
    }

    private readonly Dictionary<string, object> _fields = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public ModelFile(QuantizerKind kind) => Kind = kind;

    public QuantizerKind Kind { get; }

    public void Set(string name, long value) => Add(name, value);

    public void Set(string name, double value) => Add(name, value);

    public void Set(string name, string value) => Add(name, value);

    public void Set(string name, float[] values, params int[] shape) => Add(name, new Tensor<float>(CheckShape(name, values.Length, shape), values));

    public void Set(string name, int[] values, params int[] shape) => Add(name, new Tensor<int>(CheckShape(name, values.Length, shape), values));

    public long GetInt64(string name) => Get<long>(name, "an integer");

    public int GetInt32(string name, int min, int max)
    {
        long value = GetInt64(name);
        if (value < min || value > max)
        {
            throw new ModelFormatException($"Model field '{name}' is {value}, outside the valid range [{min}, {max}].");
        }
        return (int)value;
    }

    public double GetFloat64(string name) => Get<double>(name, "a number");

    public string GetString(string name) => Get<string>(name, "a string");

    public bool Has(string name) => _fields.ContainsKey(name);

    /// <summary>The float tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    public float[] GetFloats(string name, params int[] shape) => GetTensor<float>(name, "a float32 tensor", shape);

    /// <summary>
    /// The float tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/> and hold only finite
    /// values; a NaN or an infinity is a <see cref="ModelFormatException"/> naming the field.
    /// </summary>
    public float[] GetFiniteFloats(string name, params int[] shape)
    {
        float[] values = GetFloats(name, shape);
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ModelFormatException($"Model tensor '{name}' holds {values[i]} at flat index {i}: every value must be finite.");
            }
        }
        return values;
    }

    public int[] GetInts(string name, params int[] shape) => GetTensor<int>(name, "an int32 tensor", shape);

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] payload = BuildPayload();
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], ReadableVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[12..], (ushort)Kind);
        BinaryPrimitives.WriteUInt16LittleEndian(header[14..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], Crc32.HashToUInt32(payload));
        stream.Write(header);
        stream.Write(payload);
    }

    /// <summary>Reads and verifies a model file; throws <see cref="ModelFormatException"/> naming the problem.</summary>
    public static ModelFile ReadFrom(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[HeaderSize];
        int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < Magic.Length || !header[..Magic.Length].SequenceEqual(Magic))
        {
            throw new ModelFormatException("Not a Qinco model file: the 8-byte signature 'QINCOMDL' is missing.");
        }
        if (got < HeaderSize)
        {
            throw new ModelFormatException($"The model file is truncated: its header has {got} of {HeaderSize} bytes.");
        }
        ushort written = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        ushort minReader = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        if (minReader > ReadableVersion)
        {
            throw new ModelFormatException($"The model file was written by a newer version of Qinco.NET (format {written}, needs a reader of format {minReader}); this library reads format {ReadableVersion}. Upgrade the Qinco packages.");
        }
        if (written < minReader)
        {
            throw new ModelFormatException($"The model file's header is corrupt: it was written by format {written} but claims to need a reader of format {minReader}.");
        }
        ushort reserved = BinaryPrimitives.ReadUInt16LittleEndian(header[14..]);
        if (reserved != 0)
        {
            throw new ModelFormatException($"The model file's header is corrupt: its reserved bytes 14-15 hold {reserved}, not 0.");
        }
        ushort kindValue = BinaryPrimitives.ReadUInt16LittleEndian(header[12..]);
        if (!Enum.IsDefined((QuantizerKind)kindValue))
        {
            throw new ModelFormatException($"The model file names an unknown quantizer kind {kindValue}.");
        }
        long length = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (length < 0 || length > MaxPayloadBytes || (stream.CanSeek && length > stream.Length - stream.Position))
        {
            string available = stream.CanSeek ? $"{stream.Length - stream.Position}" : "fewer";
            throw new ModelFormatException($"The model file is truncated or corrupt: its header announces a payload of {length} bytes but {available} bytes follow.");
        }
        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        byte[] payload = new byte[length];
        int read = stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false);
        if (read < length)
        {
            throw new ModelFormatException($"The model file is truncated: the payload has {read} of {length} bytes.");
        }
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
        {
            throw new ModelFormatException($"The model file is corrupt: bytes follow the {length}-byte payload its header announces.");
        }
        uint actualCrc = Crc32.HashToUInt32(payload);
        if (actualCrc != expectedCrc)
        {
            throw new ModelFormatException($"The model file is corrupt: the payload checksum is 0x{actualCrc:X8}, the header says 0x{expectedCrc:X8}.");
        }
        var file = new ModelFile((QuantizerKind)kindValue);
        file.ParsePayload(payload);
        return file;
    }

    private void Add(string name, object value)
    {
        if (!_fields.TryAdd(name, value))
        {
            throw new InvalidOperationException($"Model field '{name}' is written twice.");
        }
        _order.Add(name);
    }

    private T Get<T>(string name, string what)
    {
        if (!_fields.TryGetValue(name, out object? value))
        {
            throw new ModelFormatException($"The {Kind} model file lacks the field '{name}'.");
        }
        return value is T typed ? typed : throw new ModelFormatException($"Model field '{name}' is not {what}.");
    }

    private T[] GetTensor<T>(string name, string what, int[] shape)
    {
        var tensor = Get<Tensor<T>>(name, what);
        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
        {
            throw new ModelFormatException($"Model tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}].");
        }
        return tensor.Values;
    }

    private static int[] CheckShape(string name, int length, int[] shape)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            count *= dim;
        }
        if (count != length)
        {
            throw new ArgumentException($"Tensor '{name}' has {length} values but shape [{string.Join(", ", shape)}].", nameof(shape));
        }
        return (int[])shape.Clone();
    }

    private byte[] BuildPayload()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            foreach (string name in _order)
            {
                object value = _fields[name];
                Tag tag = value switch
                {
                    long => Tag.Int64,
                    double => Tag.Float64,
                    string => Tag.String,
                    Tensor<float> => Tag.Float32Tensor,
                    Tensor<int> => Tag.Int32Tensor,
                    _ => throw new InvalidOperationException($"Unsupported field type {value.GetType()}."),
                };
                writer.Write((byte)tag);
                WriteString(writer, name);
                switch (value)
                {
                    case long l: writer.Write(l); break;
                    case double d: writer.Write(d); break;
                    case string s: WriteString(writer, s); break;
                    case Tensor<float> tf: WriteShape(writer, tf.Shape); writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tf.Values.AsSpan())); break;
                    case Tensor<int> ti: WriteShape(writer, ti.Shape); writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ti.Values.AsSpan())); break;
                }
            }
            writer.Write((byte)Tag.End);
        }
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Model files are little-endian; big-endian hosts are not supported.");
        }
        return buffer.ToArray();
    }

    private static void WriteString(BinaryWriter writer, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteShape(BinaryWriter writer, int[] shape)
    {
        writer.Write((byte)shape.Length);
        foreach (int dim in shape)
        {
            writer.Write(dim);
        }
    }

    private void ParsePayload(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        while (true)
        {
            var tag = (Tag)reader.Byte();
            if (tag == Tag.End)
            {
                break;
            }
            string name = reader.String();
            object value = tag switch
            {
                Tag.Int64 => reader.Int64(),
                Tag.Float64 => reader.Float64(),
                Tag.String => reader.String(),
                Tag.Float32Tensor => ReadTensor<float>(ref reader, name),
                Tag.Int32Tensor => ReadTensor<int>(ref reader, name),
                _ => throw new ModelFormatException($"The model file is corrupt: field '{name}' has unknown type tag {(byte)tag}."),
            };
            if (!_fields.TryAdd(name, value))
            {
                throw new ModelFormatException($"The model file is corrupt: field '{name}' appears twice.");
            }
            _order.Add(name);
        }
        if (!reader.AtEnd)
        {
            throw new ModelFormatException("The model file is corrupt: bytes follow the end-of-fields marker.");
        }
    }

    private static Tensor<T> ReadTensor<T>(ref PayloadReader reader, string name) where T : unmanaged
    {
        int rank = reader.Byte();
        var shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = reader.Int32();
            if (shape[i] < 0)
            {
                throw new ModelFormatException($"The model file is corrupt: tensor '{name}' has a negative dimension {shape[i]}.");
            }
            count *= shape[i];
            if (count > int.MaxValue)
            {
                throw new ModelFormatException($"The model file is corrupt: tensor '{name}' claims more than 2^31 values.");
            }
        }
        ReadOnlySpan<byte> bytes = reader.Bytes(checked((int)count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()), name);
        return new Tensor<T>(shape, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray());
    }

    private sealed record Tensor<T>(int[] Shape, T[] Values);

    private ref struct PayloadReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        public byte Byte() => Bytes(1, "field tag")[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, "length"));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, "integer"));

        public double Float64() => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8, "number"));

        public string String()
        {
            int length = Int32();
            if (length < 0)
            {
                throw new ModelFormatException($"The model file is corrupt: a string has negative length {length}.");
            }
            return Encoding.UTF8.GetString(Bytes(length, "string"));
        }

        public ReadOnlySpan<byte> Bytes(int count, string what)
        {
            if (count > _data.Length - _position)
            {
                throw new ModelFormatException($"The model file is corrupt: the {what} needs {count} bytes at payload offset {_position}, but only {_data.Length - _position} remain.");
            }
            ReadOnlySpan<byte> slice = _data.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
