using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using Qinco.Core;

namespace Qinco.Interop;

/// <summary>
/// Walks every opcode of a pickle before anything is built from it (as Python's <c>pickletools.genops</c> does): each
/// argument's length is checked against the bytes present, the opcodes PyTorch files never need are refused (text
/// persistent ids, INST/OBJ, extension codes, out-of-band buffers), and every class or function the pickle names —
/// with GLOBAL, or with STACK_GLOBAL from literal strings — must be on <see cref="TorchUnpickler.Allows"/>'s list. A
/// pickle that names anything else is refused with the name, before Razorvine.Pickle sees a byte of it.
/// </summary>
internal static class PickleScanner
{
    private const int HighestProtocol = 5;

    public static void Check(ReadOnlySpan<byte> pickle, string name)
    {
        var memo = new Dictionary<long, string?>();
        string? top = null, second = null; // the two newest stack items when they are known strings
        int pos = 0;
        while (true)
        {
            if (pos >= pickle.Length)
            {
                throw Error(name, pos, "ends without a STOP opcode: it is truncated.");
            }
            int at = pos;
            byte op = pickle[pos++];
            string? pushed = null;
            bool pushes = false, keepsStack = false;
            switch (op)
            {
                case (byte)'.': // STOP
                    if (pos != pickle.Length)
                    {
                        throw Error(name, at, $"has {pickle.Length - pos} bytes after its STOP opcode.");
                    }
                    return;
                case 0x80: // PROTO
                    byte protocol = Take(pickle, ref pos, 1, name, at)[0];
                    if (protocol > HighestProtocol)
                    {
                        throw Error(name, at, $"uses pickle protocol {protocol}; at most {HighestProtocol} is read.");
                    }
                    keepsStack = true;
                    break;
                case 0x95: // FRAME
                    long frame = BinaryPrimitives.ReadInt64LittleEndian(Take(pickle, ref pos, 8, name, at));
                    if (frame < 0 || frame > pickle.Length - pos)
                    {
                        throw Error(name, at, $"declares a frame of {frame} bytes, but {pickle.Length - pos} follow.");
                    }
                    keepsStack = true;
                    break;
                case (byte)'(': case (byte)'N': case (byte)']': case (byte)'}': case (byte)')': case 0x88: case 0x89: case 0x8f:
                    pushes = true; // MARK, NONE, EMPTY_LIST, EMPTY_DICT, EMPTY_TUPLE, NEWTRUE, NEWFALSE, EMPTY_SET
                    break;
                case (byte)'0': case (byte)'1': case (byte)'2': case (byte)'Q': case (byte)'R': case (byte)'a': case (byte)'b':
                case (byte)'d': case (byte)'e': case (byte)'l': case (byte)'s': case (byte)'t': case (byte)'u': case 0x81:
                case 0x85: case 0x86: case 0x87: case 0x90: case 0x91: case 0x92:
                    break; // POP, POP_MARK, DUP, BINPERSID, REDUCE, APPEND, BUILD, DICT, APPENDS, LIST, SETITEM, TUPLE, SETITEMS, NEWOBJ, TUPLE1-3, ADDITEMS, FROZENSET, NEWOBJ_EX
                case 0x94: // MEMOIZE
                    memo[memo.Count] = top;
                    keepsStack = true;
                    break;
                case (byte)'J': case (byte)'K': case (byte)'M': case (byte)'G':
                    Take(pickle, ref pos, op switch { (byte)'J' => 4, (byte)'K' => 1, (byte)'M' => 2, _ => 8 }, name, at);
                    pushes = true; // BININT, BININT1, BININT2, BINFLOAT
                    break;
                case (byte)'q': case (byte)'r': // BINPUT, LONG_BINPUT
                    ReadOnlySpan<byte> index = Take(pickle, ref pos, op == (byte)'q' ? 1 : 4, name, at);
                    memo[op == (byte)'q' ? index[0] : BinaryPrimitives.ReadInt32LittleEndian(index)] = top;
                    keepsStack = true;
                    break;
                case (byte)'h': case (byte)'j': // BINGET, LONG_BINGET
                    ReadOnlySpan<byte> key = Take(pickle, ref pos, op == (byte)'h' ? 1 : 4, name, at);
                    memo.TryGetValue(op == (byte)'h' ? key[0] : BinaryPrimitives.ReadInt32LittleEndian(key), out pushed);
                    pushes = true;
                    break;
                case (byte)'p': // PUT
                    memo[ParseIndex(Line(pickle, ref pos, name, at), name, at)] = top;
                    keepsStack = true;
                    break;
                case (byte)'g': // GET
                    memo.TryGetValue(ParseIndex(Line(pickle, ref pos, name, at), name, at), out pushed);
                    pushes = true;
                    break;
                case (byte)'F': case (byte)'I': case (byte)'L': case (byte)'S':
                    Line(pickle, ref pos, name, at); // FLOAT, INT, LONG, STRING (text forms)
                    pushes = true;
                    break;
                case (byte)'V': // UNICODE (raw-unicode-escaped text)
                    pushed = Encoding.UTF8.GetString(Line(pickle, ref pos, name, at));
                    pushes = true;
                    break;
                case (byte)'X': case 0x8c: case 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                    pushed = Encoding.UTF8.GetString(Counted(pickle, ref pos, op == 0x8c ? 1 : op == (byte)'X' ? 4 : 8, name, at));
                    pushes = true;
                    break;
                case (byte)'T': case (byte)'U': case (byte)'B': case (byte)'C': case 0x8e: case 0x96: case 0x8a: case 0x8b:
                    // BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, LONG1, LONG4
                    Counted(pickle, ref pos, op switch { (byte)'U' or (byte)'C' or 0x8a => 1, 0x8e or 0x96 => 8, _ => 4 }, name, at);
                    pushes = true;
                    break;
                case (byte)'c': // GLOBAL module\nname\n
                    string module = Encoding.UTF8.GetString(Line(pickle, ref pos, name, at));
                    string global = Encoding.UTF8.GetString(Line(pickle, ref pos, name, at));
                    Require(module, global, name, at);
                    pushes = true;
                    break;
                case 0x93: // STACK_GLOBAL
                    if (top is null || second is null)
                    {
                        throw Error(name, at, "uses STACK_GLOBAL with a module or name that is not a literal string; it is refused.");
                    }
                    Require(second, top, name, at);
                    second = null;
                    top = null;
                    keepsStack = true; // two names popped, one object pushed: its value is not a string
                    break;
                default:
                    throw Error(name, at, op switch
                    {
                        (byte)'P' => "uses a text persistent id (PERSID); PyTorch files use BINPERSID.",
                        (byte)'i' or (byte)'o' => "builds an object with INST/OBJ, which PyTorch files never use.",
                        0x82 or 0x83 or 0x84 => "uses a copyreg extension code (EXT1/2/4), which is refused.",
                        0x97 or 0x98 => "uses an out-of-band buffer (NEXT_BUFFER/READONLY_BUFFER), which is refused.",
                        _ => $"holds the unknown opcode 0x{op:X2}.",
                    });
            }
            if (pushes)
            {
                second = top;
                top = pushed;
            }
            else if (!keepsStack)
            {
                second = null;
                top = null;
            }
        }
    }

    private static void Require(string module, string global, string name, int at)
    {
        if (!TorchUnpickler.Allows(module, global))
        {
            throw Error(name, at, $"names '{Shorten(module)}.{Shorten(global)}', which is not a class or function a PyTorch checkpoint of tensors, NumPy scalars and modules needs; it is refused (nothing in the file is executed).");
        }
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> pickle, ref int pos, long count, string name, int at)
    {
        if (count > pickle.Length - pos)
        {
            throw Error(name, at, $"needs {count} argument bytes, but only {pickle.Length - pos} remain: it is truncated or corrupt.");
        }
        ReadOnlySpan<byte> bytes = pickle.Slice(pos, (int)count);
        pos += (int)count;
        return bytes;
    }

    /// <summary>An argument preceded by its little-endian length of <paramref name="lengthBytes"/> bytes.</summary>
    private static ReadOnlySpan<byte> Counted(ReadOnlySpan<byte> pickle, ref int pos, int lengthBytes, string name, int at)
    {
        ReadOnlySpan<byte> prefix = Take(pickle, ref pos, lengthBytes, name, at);
        long count = lengthBytes switch
        {
            1 => prefix[0],
            4 => BinaryPrimitives.ReadInt32LittleEndian(prefix),
            _ => BinaryPrimitives.ReadInt64LittleEndian(prefix),
        };
        if (count < 0)
        {
            throw Error(name, at, $"declares a negative length {count}.");
        }
        return Take(pickle, ref pos, count, name, at);
    }

    private static ReadOnlySpan<byte> Line(ReadOnlySpan<byte> pickle, ref int pos, string name, int at)
    {
        int end = pickle[pos..].IndexOf((byte)'\n');
        if (end < 0)
        {
            throw Error(name, at, "has a text argument without its end of line: it is truncated or corrupt.");
        }
        ReadOnlySpan<byte> line = pickle.Slice(pos, end);
        pos += end + 1;
        return line;
    }

    private static long ParseIndex(ReadOnlySpan<byte> line, string name, int at) =>
        long.TryParse(Encoding.ASCII.GetString(line), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long index)
            ? index : throw Error(name, at, "has a memo index that is not an integer.");

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "..." : text;

    private static ModelFormatException Error(string name, int at, string problem) => new($"{name}: the pickle (data.pkl, byte {at}) {problem}");
}
