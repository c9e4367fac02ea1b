using System;

namespace Qinco.Core;

/// <summary>
/// How a code is packed, least-significant bit first (the layout of <see cref="CodePacking"/>): an optional list number
/// of <see cref="ListBits"/> bits (IVF quantizers), then <see cref="Steps"/> indices (M) of <see cref="BitsPerStep"/>
/// bits each, in <see cref="CodeSize"/> = ceil((ListBits + M * bits) / 8) bytes.
/// </summary>
public sealed record CodeLayout
{
    /// <summary>The largest <see cref="BitsPerStep"/>: the quantizers' codebooks hold at most 2^16 codewords.</summary>
    public const int MaxBitsPerStep = 16;

    /// <summary>The largest <see cref="ListBits"/>: at most 2^24 inverted lists.</summary>
    public const int MaxListBits = 24;

    /// <summary>Creates the layout of <paramref name="steps"/> indices of <paramref name="bitsPerStep"/> bits, after a list number of <paramref name="listBits"/> bits.</summary>
    /// <param name="steps">Indices per code after the list number (M), 1 or more.</param>
    /// <param name="bitsPerStep">Bits per index, 1 to <see cref="MaxBitsPerStep"/>; each step has 2^bits codewords.</param>
    /// <param name="listBits">Bits of the leading list number, 0 (none, the default) to <see cref="MaxListBits"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A step count below 1, bits outside their range, or codes longer than an array holds.</exception>
    public CodeLayout(int steps, int bitsPerStep, int listBits = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerStep, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitsPerStep, MaxBitsPerStep);
        ArgumentOutOfRangeException.ThrowIfNegative(listBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(listBits, MaxListBits);
        long bytes = (listBits + ((long)steps * bitsPerStep) + 7) / 8;
        if (bytes > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), $"{steps} steps of {bitsPerStep} bits need {bytes}-byte codes, more than an array holds.");
        }
        Steps = steps;
        BitsPerStep = bitsPerStep;
        ListBits = listBits;
        CodeSize = (int)bytes;
    }

    /// <summary>Indices per code after the list number (M).</summary>
    public int Steps { get; }

    /// <summary>Bits per index; each step has <c>2^BitsPerStep</c> codewords.</summary>
    public int BitsPerStep { get; }

    /// <summary>Bits of the leading list number; 0 when the code has none.</summary>
    public int ListBits { get; }

    /// <summary>Indices per code, the list number included: <see cref="Steps"/> + (1 when <see cref="ListBits"/> &gt; 0).</summary>
    public int IndicesPerCode => ListBits > 0 ? Steps + 1 : Steps;

    /// <summary>Bytes per packed code: ceil((<see cref="ListBits"/> + <see cref="Steps"/> * <see cref="BitsPerStep"/>) / 8).</summary>
    public int CodeSize { get; }

    /// <summary>Bits of index <paramref name="index"/> of a code (0 is the list number when there is one).</summary>
    public int BitsOf(int index) => index == 0 && ListBits > 0 ? ListBits : BitsPerStep;
}
