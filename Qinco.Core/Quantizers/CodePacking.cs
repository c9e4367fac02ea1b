using System;

namespace Qinco.Core;

/// <summary>
/// Packs code indices of <c>bits</c> bits each, least-significant bit first, into bytes (the layout of Faiss'
/// <c>BitstringWriter</c>): index j of a code occupies bits <c>[j*bits, (j+1)*bits)</c> of the code's bytes.
/// </summary>
public static class CodePacking
{
    /// <summary>Bytes needed for <paramref name="steps"/> indices of <paramref name="bits"/> bits.</summary>
    public static int CodeSize(int steps, int bits) => checked(steps * bits + 7) / 8;

    /// <summary>Packs one code: <paramref name="indices"/> (each below <c>2^bits</c>) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index does not fit in <paramref name="bits"/> bits.</exception>
    public static void Pack(ReadOnlySpan<int> indices, int bits, Span<byte> destination)
    {
        int size = CodeSize(indices.Length, bits);
        if (destination.Length < size)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {indices.Length} indices of {bits} bits need {size}.", nameof(destination));
        }
        uint limit = 1u << bits;
        if (bits == 8)
        {
            for (int j = 0; j < indices.Length; j++)
            {
                CheckIndex(indices[j], limit, j);
                destination[j] = (byte)indices[j];
            }
            return;
        }
        destination[..size].Clear();
        long bitOffset = 0;
        for (int j = 0; j < indices.Length; j++)
        {
            CheckIndex(indices[j], limit, j);
            uint value = (uint)indices[j];
            int remaining = bits;
            while (remaining > 0)
            {
                int byteIndex = (int)(bitOffset >> 3);
                int shift = (int)(bitOffset & 7);
                int take = Math.Min(8 - shift, remaining);
                destination[byteIndex] |= (byte)((value & ((1u << take) - 1)) << shift);
                value >>= take;
                remaining -= take;
                bitOffset += take;
            }
        }
    }

    /// <summary>Unpacks one code of <c>indices.Length</c> indices of <paramref name="bits"/> bits.</summary>
    /// <exception cref="ArgumentException">The code has unused padding bits set (a corrupt or foreign code).</exception>
    public static void Unpack(ReadOnlySpan<byte> code, int bits, Span<int> indices)
    {
        int size = CodeSize(indices.Length, bits);
        if (code.Length < size)
        {
            throw new ArgumentException($"The code holds {code.Length} bytes; {indices.Length} indices of {bits} bits need {size}.", nameof(code));
        }
        if (bits == 8)
        {
            for (int j = 0; j < indices.Length; j++)
            {
                indices[j] = code[j];
            }
            return;
        }
        long bitOffset = 0;
        for (int j = 0; j < indices.Length; j++)
        {
            uint value = 0;
            int written = 0;
            while (written < bits)
            {
                int byteIndex = (int)(bitOffset >> 3);
                int shift = (int)(bitOffset & 7);
                int take = Math.Min(8 - shift, bits - written);
                value |= (uint)((code[byteIndex] >> shift) & ((1 << take) - 1)) << written;
                written += take;
                bitOffset += take;
            }
            indices[j] = (int)value;
        }
        int usedBits = indices.Length * bits;
        if ((usedBits & 7) != 0 && (code[size - 1] >> (usedBits & 7)) != 0)
        {
            throw new ArgumentException($"The code's last byte has padding bits set above bit {usedBits & 7}: the code is corrupt or was written by a quantizer with other settings.", nameof(code));
        }
    }

    /// <summary>
    /// Checks that none of the codes of <paramref name="codes"/> (<c>CodeSize(steps, bits)</c> bytes each) has a padding
    /// bit set; throws what <see cref="Unpack"/> would throw for the first bad code, naming it.
    /// </summary>
    /// <exception cref="ArgumentException">A code's last byte has padding bits set.</exception>
    public static void ValidatePadding(ReadOnlySpan<byte> codes, int steps, int bits)
    {
        int usedBits = checked(steps * bits) & 7;
        if (usedBits == 0)
        {
            return;
        }
        int size = CodeSize(steps, bits);
        for (int i = size - 1; i < codes.Length; i += size)
        {
            if ((codes[i] >> usedBits) != 0)
            {
                throw new ArgumentException($"Code {i / size}: the last byte has padding bits set above bit {usedBits}: the code is corrupt or was written by a quantizer with other settings.", nameof(codes));
            }
        }
    }

    private static void CheckIndex(int index, uint limit, int position)
    {
        if ((uint)index >= limit)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Code index {index} at step {position} is outside [0, {limit}).");
        }
    }
}
