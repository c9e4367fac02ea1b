using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Qinco.Core.IO;

/// <summary>
/// The checksummed container of named fields that quantizer models and search indexes are saved in
/// (docs/model-format.md): a 28-byte header (an 8-byte ASCII signature that says what the file is, format versions,
/// a kind number, the payload length and its CRC-32) followed by a payload of typed, named fields.
/// </summary>
/// <remarks>
/// <para>A file's signature tells its family apart (<c>QINCOMDL</c> for quantizers, <c>QINCOIDX</c> for search
/// indexes), so a reader of one family refuses a file of another before reading anything else.</para>
/// <para>Reading checks the signature, the versions (the writer's version is at least the reader version it asks
/// for), that the reserved header bytes are zero, the payload length against the bytes present (before allocating
/// it), that no byte follows the payload, and the CRC-32 of the payload; every tensor's size is checked against the bytes that remain before it is
/// copied. A problem is a <see cref="ModelFormatException"/> naming it. Field getters check types, shapes and ranges
/// and throw the same exception naming the field.</para>
/// <para>The payload is held in memory (at most <see cref="MaxPayloadBytes"/> bytes); tensors hold at most 2^31 − 1
/// values.</para>
/// </remarks>
public sealed class ContainerFile
{
    /// <summary>The format version a file is written as unless its content needs a newer one (<see cref="FormatVersion"/>).</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>Files whose minimum-reader version exceeds this are rejected as written by a newer library (2: QINCo2 models).</summary>
    public const ushort ReadableVersion = 2;

    /// <summary>
    /// The format version written as both the writer's and the minimum reader's version (default <see cref="CurrentVersion"/>,
    /// 1..<see cref="ReadableVersion"/>): a file whose fields an older reader would misread (a QINCo2 model read as QINCo1)
    /// raises it, so that reader refuses the file as "written by a newer version" instead of decoding garbage.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 1..<see cref="ReadableVersion"/>.</exception>
    public ushort FormatVersion
    {
        get => _formatVersion;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, (ushort)1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, ReadableVersion);
            _formatVersion = value;
        }
    }

    private ushort _formatVersion = CurrentVersion;

    /// <summary>Bytes of the fixed header.</summary>
    public const int HeaderSize = 28;

    /// <summary>The largest payload read or written: one in-memory array (a larger announced length is a corrupt header).</summary>
    public static readonly long MaxPayloadBytes = Array.MaxLength;

    private const int SignatureLength = 8;

    private enum Tag : byte
    {
        End = 0,
        Int64 = 1,
        Float64 = 2,
        String = 3,
        Float32Tensor = 4,
        Int32Tensor = 5,
        UInt8Tensor = 6,
        Int64Tensor = 7,
    }

    private readonly Dictionary<string, object> _fields = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Creates an empty container to fill with <c>Set</c> and write with <see cref="WriteTo"/>.</summary>
    /// <param name="signature">Exactly 8 ASCII characters naming the file family, e.g. <c>"QINCOIDX"</c>.</param>
    /// <param name="kind">The kind within the family (the header's uint16 at offset 12).</param>
    /// <param name="description">How messages name the file, e.g. <c>"index"</c> (default: <c>"container"</c>).</param>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is not 8 ASCII characters.</exception>
    public ContainerFile(string signature, ushort kind, string description = "container")
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(description);
        if (signature.Length != SignatureLength || !Ascii.IsValid(signature))
        {
            throw new ArgumentException($"A container signature is {SignatureLength} ASCII characters; got '{signature}'.", nameof(signature));
        }
        Signature = signature;
        Kind = kind;
        Description = description;
    }

    /// <summary>The 8-character file-family signature.</summary>
    public string Signature { get; }

    /// <summary>The kind number within the family.</summary>
    public ushort Kind { get; }

    /// <summary>How messages name the file (e.g. <c>"Residual model"</c>, <c>"index"</c>).</summary>
    public string Description { get; set; }

    /// <summary>The field names, in the order they were written or read.</summary>
    public IReadOnlyList<string> FieldNames => _order;

    /// <summary>Adds an integer field.</summary>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, long value) => Add(name, value);

    /// <summary>Adds a floating-point field.</summary>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, double value) => Add(name, value);

    /// <summary>Adds a string field (UTF-8).</summary>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, string value) => Add(name, value);

    /// <summary>Adds a float32 tensor of the given shape (row-major; the array is kept, not copied).</summary>
    /// <exception cref="ArgumentException">The shape does not match the value count.</exception>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, float[] values, params int[] shape) => Add(name, new Tensor<float>(CheckShape(name, values, shape), values));

    /// <summary>Adds an int32 tensor of the given shape.</summary>
    /// <exception cref="ArgumentException">The shape does not match the value count.</exception>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, int[] values, params int[] shape) => Add(name, new Tensor<int>(CheckShape(name, values, shape), values));

    /// <summary>Adds a uint8 tensor of the given shape.</summary>
    /// <exception cref="ArgumentException">The shape does not match the value count.</exception>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, byte[] values, params int[] shape) => Add(name, new Tensor<byte>(CheckShape(name, values, shape), values));

    /// <summary>Adds an int64 tensor of the given shape.</summary>
    /// <exception cref="ArgumentException">The shape does not match the value count.</exception>
    /// <exception cref="InvalidOperationException">A field of that name exists.</exception>
    public void Set(string name, long[] values, params int[] shape) => Add(name, new Tensor<long>(CheckShape(name, values, shape), values));

    /// <summary>Whether the container holds a field of that name.</summary>
    public bool Has(string name) => _fields.ContainsKey(name);

    /// <summary>The integer field <paramref name="name"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing or not an integer.</exception>
    public long GetInt64(string name) => Get<long>(name, "an integer");

    /// <summary>The integer field <paramref name="name"/>, which must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <exception cref="ModelFormatException">The field is missing, not an integer, or out of range.</exception>
    public int GetInt32(string name, int min, int max) => (int)GetInt64(name, min, max);

    /// <summary>The integer field <paramref name="name"/>, which must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <exception cref="ModelFormatException">The field is missing, not an integer, or out of range.</exception>
    public long GetInt64(string name, long min, long max)
    {
        long value = GetInt64(name);
        if (value < min || value > max)
        {
            throw new ModelFormatException($"{Capitalised} field '{name}' is {value}, outside the valid range [{min}, {max}].");
        }
        return value;
    }

    /// <summary>The floating-point field <paramref name="name"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing or not a number.</exception>
    public double GetFloat64(string name) => Get<double>(name, "a number");

    /// <summary>The string field <paramref name="name"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing or not a string.</exception>
    public string GetString(string name) => Get<string>(name, "a string");

    /// <summary>The float32 tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing, of another type or of another shape.</exception>
    public float[] GetFloats(string name, params int[] shape) => GetTensor<float>(name, "a float32 tensor", shape);

    /// <summary>
    /// The float32 tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/> and hold only
    /// finite values.
    /// </summary>
    /// <exception cref="ModelFormatException">As <see cref="GetFloats"/>, or a NaN/infinity (its index is named).</exception>
    public float[] GetFiniteFloats(string name, params int[] shape)
    {
        float[] values = GetFloats(name, shape);
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ModelFormatException($"{Capitalised} tensor '{name}' holds {values[i]} at flat index {i}: every value must be finite.");
            }
        }
        return values;
    }

    /// <summary>The int32 tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing, of another type or of another shape.</exception>
    public int[] GetInts(string name, params int[] shape) => GetTensor<int>(name, "an int32 tensor", shape);

    /// <summary>The uint8 tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing, of another type or of another shape.</exception>
    public byte[] GetBytes(string name, params int[] shape) => GetTensor<byte>(name, "a uint8 tensor", shape);

    /// <summary>The int64 tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    /// <exception cref="ModelFormatException">The field is missing, of another type or of another shape.</exception>
    public long[] GetLongs(string name, params int[] shape) => GetTensor<long>(name, "an int64 tensor", shape);

    /// <summary>Writes the header and the payload.</summary>
    /// <exception cref="InvalidOperationException">The payload exceeds <see cref="MaxPayloadBytes"/>.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] payload = BuildPayload();
        Span<byte> header = stackalloc byte[HeaderSize];
        Encoding.ASCII.GetBytes(Signature, header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[12..], Kind);
        BinaryPrimitives.WriteUInt16LittleEndian(header[14..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], Crc32.HashToUInt32(payload));
        stream.Write(header);
        stream.Write(payload);
    }

    /// <summary>
    /// Reads and verifies a container of the family <paramref name="signature"/>: signature, versions, payload length
    /// (checked against the bytes present before allocating), that nothing follows the payload, CRC-32, then the fields.
    /// </summary>
    /// <param name="stream">The file's bytes, from its first byte.</param>
    /// <param name="signature">The 8-character signature the file must start with.</param>
    /// <param name="description">How messages name the file, e.g. <c>"index"</c>.</param>
    /// <exception cref="ModelFormatException">Another family, truncated, corrupt (checksum, field layout), or written by a newer version.</exception>
    public static ContainerFile ReadFrom(Stream stream, string signature, string description)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var probe = new ContainerFile(signature, 0, description);
        Span<byte> expected = stackalloc byte[SignatureLength];
        Encoding.ASCII.GetBytes(signature, expected);
        Span<byte> header = stackalloc byte[HeaderSize];
        int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < SignatureLength || !header[..SignatureLength].SequenceEqual(expected))
        {
            throw new ModelFormatException($"Not a Qinco {description} file: the 8-byte signature '{signature}' is missing.");
        }
        if (got < HeaderSize)
        {
            throw new ModelFormatException($"The {description} file is truncated: its header has {got} of {HeaderSize} bytes.");
        }
        ushort written = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        ushort minReader = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        if (minReader > ReadableVersion)
        {
            throw new ModelFormatException($"The {description} file was written by a newer version of Qinco.NET (format {written}, needs a reader of format {minReader}); this library reads format {ReadableVersion}. Upgrade the Qinco packages.");
        }
        if (written < minReader)
        {
            throw new ModelFormatException($"The {description} file's header is corrupt: it was written by format {written} but claims to need a reader of format {minReader}.");
        }
        ushort reserved = BinaryPrimitives.ReadUInt16LittleEndian(header[14..]);
        if (reserved != 0)
        {
            throw new ModelFormatException($"The {description} file's header is corrupt: its reserved bytes 14-15 hold {reserved}, not 0.");
        }
        ushort kind = BinaryPrimitives.ReadUInt16LittleEndian(header[12..]);
        long length = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (length < 0 || length > MaxPayloadBytes || (stream.CanSeek && length > stream.Length - stream.Position))
        {
            string available = stream.CanSeek ? $"{stream.Length - stream.Position}" : "fewer";
            throw new ModelFormatException($"The {description} file is truncated or corrupt: its header announces a payload of {length} bytes but {available} bytes follow.");
        }
        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        byte[] payload = new byte[length];
        int read = stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false);
        if (read < length)
        {
            throw new ModelFormatException($"The {description} file is truncated: the payload has {read} of {length} bytes.");
        }
        Span<byte> trailing = stackalloc byte[1];
        if (stream.Read(trailing) != 0)
        {
            throw new ModelFormatException($"The {description} file is corrupt: bytes follow the {length}-byte payload its header announces.");
        }
        uint actualCrc = Crc32.HashToUInt32(payload);
        if (actualCrc != expectedCrc)
        {
            throw new ModelFormatException($"The {description} file is corrupt: the payload checksum is 0x{actualCrc:X8}, the header says 0x{expectedCrc:X8}.");
        }
        var file = new ContainerFile(probe.Signature, kind, description);
        file.ParsePayload(payload);
        return file;
    }

    private string Capitalised => Description.Length == 0 ? "Container" : char.ToUpperInvariant(Description[0]) + Description[1..];

    private void Add(string name, object value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_fields.TryAdd(name, value))
        {
            throw new InvalidOperationException($"{Capitalised} field '{name}' is written twice.");
        }
        _order.Add(name);
    }

    private T Get<T>(string name, string what)
    {
        if (!_fields.TryGetValue(name, out object? value))
        {
            throw new ModelFormatException($"The {Description} file lacks the field '{name}'.");
        }
        return value is T typed ? typed : throw new ModelFormatException($"{Capitalised} field '{name}' is not {what}.");
    }

    private T[] GetTensor<T>(string name, string what, int[] shape)
    {
        var tensor = Get<Tensor<T>>(name, what);
        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
        {
            throw new ModelFormatException($"{Capitalised} tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}].");
        }
        return tensor.Values;
    }

    private static int[] CheckShape<T>(string name, T[] values, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        long count = 1;
        foreach (int dim in shape)
        {
            count *= dim;
        }
        if (count != values.Length)
        {
            throw new ArgumentException($"Tensor '{name}' has {values.Length} values but shape [{string.Join(", ", shape)}].", nameof(shape));
        }
        return (int[])shape.Clone();
    }

    private byte[] BuildPayload()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Qinco files are little-endian; big-endian hosts are not supported.");
        }
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            foreach (string name in _order)
            {
                object value = _fields[name];
                writer.Write((byte)TagOf(value));
                WriteString(writer, name);
                switch (value)
                {
                    case long l: writer.Write(l); break;
                    case double d: writer.Write(d); break;
                    case string s: WriteString(writer, s); break;
                    case Tensor<float> t: WriteTensor(writer, t); break;
                    case Tensor<int> t: WriteTensor(writer, t); break;
                    case Tensor<byte> t: WriteTensor(writer, t); break;
                    case Tensor<long> t: WriteTensor(writer, t); break;
                }
                if (buffer.Length > MaxPayloadBytes)
                {
                    throw new InvalidOperationException($"The {Description} file's payload exceeds {MaxPayloadBytes} bytes.");
                }
            }
            writer.Write((byte)Tag.End);
        }
        return buffer.ToArray();
    }

    private static Tag TagOf(object value) => value switch
    {
        long => Tag.Int64,
        double => Tag.Float64,
        string => Tag.String,
        Tensor<float> => Tag.Float32Tensor,
        Tensor<int> => Tag.Int32Tensor,
        Tensor<byte> => Tag.UInt8Tensor,
        Tensor<long> => Tag.Int64Tensor,
        _ => throw new InvalidOperationException($"Unsupported field type {value.GetType()}."),
    };

    private static void WriteTensor<T>(BinaryWriter writer, Tensor<T> tensor) where T : unmanaged
    {
        writer.Write((byte)tensor.Shape.Length);
        foreach (int dim in tensor.Shape)
        {
            writer.Write(dim);
        }
        writer.Write(MemoryMarshal.AsBytes(tensor.Values.AsSpan()));
    }

    private static void WriteString(BinaryWriter writer, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private void ParsePayload(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, Description);
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
                Tag.UInt8Tensor => ReadTensor<byte>(ref reader, name),
                Tag.Int64Tensor => ReadTensor<long>(ref reader, name),
                _ => throw new ModelFormatException($"The {Description} file is corrupt: field '{name}' has unknown type tag {(byte)tag}."),
            };
            if (!_fields.TryAdd(name, value))
            {
                throw new ModelFormatException($"The {Description} file is corrupt: field '{name}' appears twice.");
            }
            _order.Add(name);
        }
        if (!reader.AtEnd)
        {
            throw new ModelFormatException($"The {Description} file is corrupt: bytes follow the end-of-fields marker.");
        }
    }

    private Tensor<T> ReadTensor<T>(ref PayloadReader reader, string name) where T : unmanaged
    {
        int rank = reader.Byte();
        var shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = reader.Int32();
            if (shape[i] < 0)
            {
                throw new ModelFormatException($"The {Description} file is corrupt: tensor '{name}' has a negative dimension {shape[i]}.");
            }
            count *= shape[i];
            if (count > int.MaxValue)
            {
                throw new ModelFormatException($"The {Description} file is corrupt: tensor '{name}' claims more than 2^31 values.");
            }
        }
        long bytes = count * Unsafe.SizeOf<T>();
        if (bytes > int.MaxValue)
        {
            throw new ModelFormatException($"The {Description} file is corrupt: tensor '{name}' claims {bytes} bytes, more than one array holds.");
        }
        ReadOnlySpan<byte> data = reader.Bytes((int)bytes, name);
        return new Tensor<T>(shape, MemoryMarshal.Cast<byte, T>(data).ToArray());
    }

    private sealed record Tensor<T>(int[] Shape, T[] Values);

    private ref struct PayloadReader(ReadOnlySpan<byte> data, string description)
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
                throw new ModelFormatException($"The {description} file is corrupt: a string has negative length {length}.");
            }
            return Encoding.UTF8.GetString(Bytes(length, "string"));
        }

        public ReadOnlySpan<byte> Bytes(int count, string what)
        {
            if (count > _data.Length - _position)
            {
                throw new ModelFormatException($"The {description} file is corrupt: the {what} needs {count} bytes at payload offset {_position}, but only {_data.Length - _position} remain.");
            }
            ReadOnlySpan<byte> slice = _data.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
