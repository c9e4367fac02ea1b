using System;

namespace Qinco.Core;

/// <summary>
/// Packs code indices least-significant bit first into bytes (the layout of Faiss' <c>BitstringWriter</c>): index j of
/// a code occupies the <see cref="CodeLayout.BitsOf"/>(j) bits that follow those of index j − 1; the bits after the
/// last index up to the byte boundary are padding and must be zero.
/// </summary>
public static class CodePacking
{
    /// <summary>Packs one code: <paramref name="indices"/> (<see cref="CodeLayout.IndicesPerCode"/>, each below 2^its bits) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The index count is not the layout's, or the destination is shorter than <see cref="CodeLayout.CodeSize"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index does not fit in its bits.</exception>
    public static void Pack(ReadOnlySpan<int> indices, CodeLayout layout, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CheckLengths(indices.Length, destination.Length, layout, nameof(destination));
        if (layout is { ListBits: 0, BitsPerStep: 8 })
        {
            for (int j = 0; j < indices.Length; j++)
            {
                CheckIndex(indices[j], 8, j);
                destination[j] = (byte)indices[j];
            }
            return;
        }
        destination[..layout.CodeSize].Clear();
        long bitOffset = 0;
        for (int j = 0; j < indices.Length; j++)
        {
            int bits = layout.BitsOf(j);
            CheckIndex(indices[j], bits, j);
            uint value = (uint)indices[j];
            for (int remaining = bits; remaining > 0;)
            {
                int shift = (int)(bitOffset & 7);
                int take = Math.Min(8 - shift, remaining);
                destination[(int)(bitOffset >> 3)] |= (byte)((value & ((1u << take) - 1)) << shift);
                value >>= take;
                remaining -= take;
                bitOffset += take;
            }
        }
    }

    /// <summary>Unpacks one code into its <see cref="CodeLayout.IndicesPerCode"/> indices.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit the layout, or the code has padding bits set (a corrupt or foreign code).</exception>
    public static void Unpack(ReadOnlySpan<byte> code, CodeLayout layout, Span<int> indices)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CheckLengths(indices.Length, code.Length, layout, nameof(code));
        if (layout is { ListBits: 0, BitsPerStep: 8 })
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
            int bits = layout.BitsOf(j);
            uint value = 0;
            for (int written = 0; written < bits;)
            {
                int shift = (int)(bitOffset & 7);
                int take = Math.Min(8 - shift, bits - written);
                value |= (uint)((code[(int)(bitOffset >> 3)] >> shift) & ((1 << take) - 1)) << written;
                written += take;
                bitOffset += take;
            }
            indices[j] = (int)value;
        }
        ValidatePadding(code[..layout.CodeSize], layout);
    }

    /// <summary>
    /// Checks that none of the codes of <paramref name="codes"/> (<see cref="CodeLayout.CodeSize"/> bytes each) has a
    /// padding bit set.
    /// </summary>
    /// <exception cref="ArgumentException">A code's last byte has padding bits set; the code is named.</exception>
    public static void ValidatePadding(ReadOnlySpan<byte> codes, CodeLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int usedBits = (int)((layout.ListBits + ((long)layout.Steps * layout.BitsPerStep)) & 7);
        if (usedBits == 0)
        {
            return;
        }
        int size = layout.CodeSize;
        for (int i = size - 1; i < codes.Length; i += size)
        {
            if ((codes[i] >> usedBits) != 0)
            {
                throw new ArgumentException($"Code {i / size}: the last byte has padding bits set above bit {usedBits}: the code is corrupt or was written by a quantizer with other settings.", nameof(codes));
            }
        }
    }

    private static void CheckLengths(int indices, int bytes, CodeLayout layout, string bytesName)
    {
        if (indices != layout.IndicesPerCode)
        {
            throw new ArgumentException($"The layout has {layout.IndicesPerCode} indices per code; {indices} were given.", nameof(indices));
        }
        if (bytes < layout.CodeSize)
        {
            throw new ArgumentException($"The code holds {bytes} bytes; the layout needs {layout.CodeSize}.", bytesName);
        }
    }

    private static void CheckIndex(int index, int bits, int position)
    {
        if ((uint)index >= 1u << bits)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Code index {index} at position {position} is outside [0, {1u << bits}).");
        }
    }
}
