using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Qinco.Core.IO;

/// <summary>A tensor read from a safetensors file, converted to float32.</summary>
/// <param name="Name">Its key in the file.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Values">Row-major values.</param>
internal sealed record SafetensorsTensor(string Name, int[] Shape, float[] Values);

/// <summary>
/// The safetensors format (an 8-byte little-endian header length N, N bytes of JSON naming every tensor's dtype, shape
/// and byte range, then the raw little-endian data), read and written without reflection. Reading checks every size
/// against the bytes present before allocating; any problem is a <see cref="ModelFormatException"/> naming the file.
/// </summary>
internal static class Safetensors
{
    /// <summary>The format's own bound on the JSON header.</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads the metadata and every tensor (F32, F16, BF16 or F64, converted to float32) from a seekable stream.</summary>
    public static (Dictionary<string, string> Metadata, List<SafetensorsTensor> Tensors) Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            throw new ArgumentException($"Reading a safetensors file needs a seekable stream ({name} is not).", nameof(stream));
        }
        long start = stream.Position, length = stream.Length - start;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8)
        {
            throw Error(name, $"is truncated: a safetensors file starts with an 8-byte header length, but it holds {length} bytes.");
        }
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || (long)headerLength > length - 8)
        {
            throw Error(name, $"has a corrupt header: it declares {headerLength} bytes of JSON, but {length - 8} bytes follow (and the format allows at most {MaxHeaderBytes}).");
        }
        byte[] json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataStart = start + 8 + (long)headerLength, dataLength = length - 8 - (long)headerLength;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, string DType, int[] Shape, long Begin, long End)>();
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Error(name, "has a JSON header that is not an object.");
            }
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(name, property.Value, metadata);
                }
                else
                {
                    entries.Add(ReadEntry(name, property, dataLength));
                }
            }
        }
        catch (JsonException ex)
        {
            throw Error(name, $"has a JSON header that does not parse: {ex.Message}", ex);
        }
        var tensors = new List<SafetensorsTensor>(entries.Count);
        foreach ((string key, string dtype, int[] shape, long begin, long end) in entries)
        {
            var values = new float[(end - begin) / SizeOf(dtype)];
            stream.Position = dataStart + begin;
            byte[] bytes = ArrayPool<byte>.Shared.Rent((int)(end - begin));
            try
            {
                stream.ReadExactly(bytes, 0, (int)(end - begin));
                Convert(dtype, bytes.AsSpan(0, (int)(end - begin)), values);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytes);
            }
            tensors.Add(new SafetensorsTensor(key, shape, values));
        }
        return (metadata, tensors);
    }

    /// <summary>Writes <paramref name="tensors"/> as F32 (in the given order, back to back) after a header holding <paramref name="metadata"/>.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors files are little-endian; big-endian hosts are not supported.");
        }
        using var header = new MemoryStream();
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            foreach (KeyValuePair<string, string> item in metadata)
            {
                writer.WriteString(item.Key, item.Value);
            }
            writer.WriteEndObject();
            long offset = 0;
            foreach (SafetensorsTensor tensor in tensors)
            {
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                {
                    writer.WriteNumberValue(dim);
                }
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += 4L * tensor.Values.Length;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        // Pad the header with spaces so the data starts 8-byte aligned, as the format recommends.
        int padded = (int)((header.Length + 7) / 8 * 8);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(header.GetBuffer().AsSpan(0, (int)header.Length));
        for (long i = header.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }
        foreach (SafetensorsTensor tensor in tensors)
        {
            stream.Write(MemoryMarshal.AsBytes(tensor.Values.AsSpan()));
        }
    }

    private static void ReadMetadata(string name, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(name, "has a '__metadata__' entry that is not an object of strings.");
        }
        foreach (JsonProperty item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(name, $"has the metadata entry '{item.Name}', which is not a string.");
            }
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static (string Name, string DType, int[] Shape, long Begin, long End) ReadEntry(string name, JsonProperty property, long dataLength)
    {
        string key = property.Name;
        JsonElement e = property.Value;
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Error(name, $"describes the tensor '{key}' without a string 'dtype', an array 'shape' and a pair 'data_offsets'.");
        }
        string dtype = dtypeElement.GetString()!;
        if (SizeOf(dtype) == 0)
        {
            throw Error(name, $"holds the tensor '{key}' of dtype '{dtype}'; only the floating-point dtypes F32, F16, BF16 and F64 are read.");
        }
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out shape[i]) || shape[i] < 0)
            {
                throw Error(name, $"gives the tensor '{key}' a dimension that is not an integer in 0..{int.MaxValue}.");
            }
            count = Math.Min(count * shape[i], long.MaxValue / 16); // saturates: compared with the bytes present below
            i++;
        }
        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin || end > dataLength)
        {
            throw Error(name, $"gives the tensor '{key}' the byte range [{offsets[0]}, {offsets[1]}), outside the {dataLength} data bytes present.");
        }
        if (count * SizeOf(dtype) != end - begin || count > Array.MaxLength)
        {
            throw Error(name, $"gives the tensor '{key}' shape [{string.Join(", ", shape)}] of {dtype} ({count} values), but {end - begin} bytes.");
        }
        return (key, dtype, shape, begin, end);
    }

    /// <summary>Bytes per value of a readable dtype; 0 for any other.</summary>
    private static int SizeOf(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" or "BF16" => 2,
        "F64" => 8,
        _ => 0,
    };

    private static void Convert(string dtype, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]),
            };
        }
    }

    private static ModelFormatException Error(string name, string problem, Exception? inner = null) =>
        inner is null ? new($"{name}: {problem}") : new($"{name}: {problem}", inner);
}
