using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Qinco.Core.IO;

/// <summary>
/// The NumPy <c>.npy</c> header (format versions 1.0, 2.0 and 3.0) of a 2-D, C-order, little-endian array; where the
/// reader allows lower ranks (arrays of an <c>.npz</c> archive), a 1-D array of n values reads as n rows of 1 column
/// and a 0-D scalar as 1 row of 1 column (<see cref="Rank"/> tells which).
/// </summary>
internal sealed record NpyHeader(VectorElementType ElementType, long Rows, int Columns, long DataOffset, int Rank = 2)
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Header texts longer than this are treated as corrupt (NumPy itself refuses more than 10,000 bytes by default).</summary>
    private const int MaxHeaderLength = 1 << 20;

    public static string Descr(VectorElementType type) => type switch
    {
        VectorElementType.Float32 => "<f4",
        VectorElementType.UInt8 => "|u1",
        VectorElementType.Int32 => "<i4",
        VectorElementType.Int64 => "<i8",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown element type."),
    };

    public static NpyHeader Read(Stream stream, string name, long length, bool allowLowerRanks = false)
    {
        Span<byte> pre = stackalloc byte[12];
        if (length < 10)
        {
            int got = stream.ReadAtLeast(pre[..(int)length], (int)length, throwOnEndOfStream: false);
            int compared = Math.Min(got, Magic.Length);
            if (got == 0 || !pre[..compared].SequenceEqual(Magic[..compared]))
            {
                throw BadMagic(name, pre[..got]);
            }
            throw FileLayout.Error(name, $"is truncated in its .npy header: it holds only {length} bytes.");
        }
        stream.ReadExactly(pre[..10]);
        if (!pre[..Magic.Length].SequenceEqual(Magic))
        {
            throw BadMagic(name, pre[..10]);
        }
        byte major = pre[6];
        byte minor = pre[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw FileLayout.Error(name, $"has .npy format version {major}.{minor}; only 1.0, 2.0 and 3.0 are supported.");
        }
        long headerLength;
        int preamble;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(pre[8..10]);
            preamble = 10;
        }
        else
        {
            if (length < 12)
            {
                throw FileLayout.Error(name, $"is truncated in its .npy header: it holds only {length} bytes.");
            }
            stream.ReadExactly(pre[10..12]);
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(pre[8..12]);
            preamble = 12;
        }
        if (headerLength > MaxHeaderLength)
        {
            throw FileLayout.Error(name, $"has a corrupt .npy header: it declares a header of {headerLength} bytes.");
        }
        if (preamble + headerLength > length)
        {
            throw FileLayout.Error(name, $"is truncated in its .npy header: the header declares {headerLength} bytes, but only {length - preamble} follow the preamble.");
        }
        byte[] text = new byte[headerLength];
        stream.ReadExactly(text);
        string header = major == 3 ? Encoding.UTF8.GetString(text) : Encoding.Latin1.GetString(text);
        return Interpret(name, header, preamble + headerLength, allowLowerRanks);
    }

    private static VectorFileException BadMagic(string name, ReadOnlySpan<byte> start) => start.IsEmpty
        ? FileLayout.Error(name, "is empty, so not a .npy file (it lacks the \"\\x93NUMPY\" magic).")
        : FileLayout.Error(name, $"is not a .npy file: bad magic (it starts with bytes {Convert.ToHexString(start)}, not 934E554D5059 = \"\\x93NUMPY\").");

    private static NpyHeader Interpret(string name, string header, long dataOffset, bool allowLowerRanks)
    {
        Dictionary<string, object> dict;
        try
        {
            dict = new Parser(header).ParseDict();
        }
        catch (FormatException ex)
        {
            throw FileLayout.Error(name, $"has an unparsable .npy header ({ex.Message}): {Quote(header)}.", ex);
        }
        string Need(string key) => dict.ContainsKey(key) ? key : throw FileLayout.Error(name, $"has a .npy header without '{key}': {Quote(header)}.");

        if (dict[Need("descr")] is not string descr)
        {
            throw FileLayout.Error(name, $"has an unsupported dtype {Describe(dict["descr"])}; supported: '<f4', '|u1', '<i4', '<i8'.");
        }
        VectorElementType type = descr switch
        {
            "<f4" => VectorElementType.Float32,
            "|u1" or "<u1" => VectorElementType.UInt8,
            "<i4" => VectorElementType.Int32,
            "<i8" => VectorElementType.Int64,
            _ when descr.StartsWith('>') => throw FileLayout.Error(name, $"has the big-endian dtype '{descr}', which is not supported; only little-endian '<f4', '|u1', '<i4', '<i8' are (convert with arr.astype(arr.dtype.newbyteorder('<'))."),
            _ => throw FileLayout.Error(name, $"has the unsupported dtype '{descr}'; supported: '<f4', '|u1', '<i4', '<i8'."),
        };
        if (dict[Need("fortran_order")] is not bool fortran)
        {
            throw FileLayout.Error(name, $"has a .npy header whose 'fortran_order' is not True or False: {Quote(header)}.");
        }
        if (fortran)
        {
            throw FileLayout.Error(name, "is stored in Fortran order (fortran_order: True); only C order is supported (save np.ascontiguousarray(arr)).");
        }
        if (dict[Need("shape")] is not long[] shape)
        {
            throw FileLayout.Error(name, $"has a .npy header whose 'shape' is not a tuple: {Quote(header)}.");
        }
        if (allowLowerRanks && shape.Length < 2)
        {
            long rows = shape.Length == 0 ? 1 : shape[0];
            if (rows < 0)
            {
                throw FileLayout.Error(name, $"has shape ({rows},): a negative length.");
            }
            return new NpyHeader(type, rows, 1, dataOffset, shape.Length);
        }
        if (shape.Length != 2)
        {
            throw FileLayout.Error(name, $"has shape ({string.Join(", ", shape)}), a {shape.Length}-D array; only 2-D arrays (rows, dimension) are supported.");
        }
        if (shape[0] < 0)
        {
            throw FileLayout.Error(name, $"has shape ({shape[0]}, {shape[1]}): a negative number of rows.");
        }
        if (shape[1] < 1 || shape[1] > int.MaxValue)
        {
            throw FileLayout.Error(name, $"has shape ({shape[0]}, {shape[1]}): the dimension must be between 1 and {int.MaxValue}.");
        }
        return new NpyHeader(type, shape[0], (int)shape[1], dataOffset);
    }

    private static string Describe(object value) => value switch
    {
        string s => $"'{s}'",
        long[] t => $"({string.Join(", ", t)})",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?",
    };

    private static string Quote(string header)
    {
        string trimmed = header.TrimEnd();
        return trimmed.Length > 200 ? $"\"{trimmed[..200]}...\"" : $"\"{trimmed}\"";
    }

    /// <summary>Writes the magic, version and padded header; the data start is a multiple of 64 bytes.</summary>
    public static void Write(Stream stream, VectorElementType type, long rows, int columns)
    {
        string dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '{Descr(type)}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        int preamble = 10;
        int total = preamble + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        byte[] bytes = new byte[padded];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(padded - preamble));
        int written = Encoding.ASCII.GetBytes(dict, bytes.AsSpan(preamble));
        bytes.AsSpan(preamble + written, padded - preamble - written - 1).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        stream.Write(bytes);
    }

    /// <summary>A parser for the Python literal dict of a .npy header: strings, True/False/None, integers and tuples.</summary>
    private sealed class Parser(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public Dictionary<string, object> ParseDict()
        {
            var dict = new Dictionary<string, object>(StringComparer.Ordinal);
            Expect('{');
            ParseItems('}', () =>
            {
                if (ParseValue() is not string key)
                {
                    throw new FormatException($"a key at offset {_pos} is not a string");
                }
                Expect(':');
                dict[key] = ParseValue();
            });
            SkipSpace();
            if (_pos != _text.Length)
            {
                throw new FormatException($"unexpected text after the dict at offset {_pos}");
            }
            return dict;
        }

        private object ParseValue()
        {
            SkipSpace();
            char c = Peek();
            if (c is '\'' or '"')
            {
                int end = _text.IndexOf(c, _pos + 1);
                if (end < 0)
                {
                    throw new FormatException($"unterminated string at offset {_pos}");
                }
                string s = _text[(_pos + 1)..end];
                _pos = end + 1;
                return s;
            }
            if (c == '(' || c == '[')
            {
                char close = c == '(' ? ')' : ']';
                _pos++;
                var items = new List<long>();
                bool structured = false;
                ParseItems(close, () =>
                {
                    if (ParseValue() is long l)
                    {
                        items.Add(l);
                    }
                    else
                    {
                        structured = true;
                    }
                });
                return structured || c == '[' ? new StructuredMarker() : items.ToArray();
            }
            if (char.IsAsciiDigit(c) || c == '-')
            {
                int start = _pos;
                _pos++;
                while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                {
                    _pos++;
                }
                if (!long.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                {
                    throw new FormatException($"the integer at offset {start} is out of range");
                }
                if (_pos < _text.Length && _text[_pos] is 'L' or 'l')
                {
                    _pos++; // Python 2 long literal, e.g. (10L, 128L)
                }
                return value;
            }
            foreach ((string word, object value) in new (string, object)[] { ("True", true), ("False", false), ("None", new StructuredMarker()) })
            {
                if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
                {
                    _pos += word.Length;
                    return value;
                }
            }
            throw new FormatException($"unexpected '{c}' at offset {_pos}");
        }

        /// <summary>Parses comma-separated items (a trailing comma allowed) up to and including <paramref name="close"/>.</summary>
        private void ParseItems(char close, Action parseItem)
        {
            while (true)
            {
                SkipSpace();
                if (Peek() == close)
                {
                    _pos++;
                    return;
                }
                parseItem();
                SkipSpace();
                if (Peek() == ',')
                {
                    _pos++;
                }
                else if (Peek() != close)
                {
                    throw new FormatException($"expected ',' or '{close}' at offset {_pos}");
                }
            }
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c)
            {
                throw new FormatException($"expected '{c}' at offset {_pos}");
            }
            _pos++;
        }

        private char Peek() => _pos < _text.Length ? _text[_pos] : throw new FormatException("unexpected end of header");

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
        }
    }

    /// <summary>A value the reader does not interpret (a structured dtype list, None).</summary>
    private sealed class StructuredMarker
    {
        public override string ToString() => "(a structured dtype or None)";
    }
}
