using System;

namespace Qinco.Core;

/// <summary>
/// Packed codes of <see cref="Count"/> vectors, <see cref="CodeSize"/> bytes each, with the <see cref="Layout"/> that
/// says how to unpack them: a <see cref="Matrix{T}"/> of bytes with one row per code. Held as bytes end to end (a
/// 2-D uint8 <c>.npy</c> on disk, see <see cref="IO.VectorFile.ReadCodes(string, CodeLayout, IO.RowRange?)"/>), never
/// widened.
/// </summary>
/// <remarks>
/// <see cref="FromArray(byte[], CodeLayout)"/> wraps the caller's array without copying; <see cref="Slice"/> and
/// <see cref="Clone"/> copy and keep the layout.
/// </remarks>
public sealed class CodeSet : Matrix<byte>
{
    /// <summary>Creates <paramref name="count"/> zero-filled codes of the given layout.</summary>
    /// <param name="count">Number of codes, 0 or more.</param>
    /// <param name="layout">How each code is packed; gives <see cref="CodeSize"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layout"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative count, or <c>count * layout.CodeSize</c> bytes exceed
    /// the largest array (the message names both sizes).</exception>
    public CodeSet(int count, CodeLayout layout)
        : base(Allocate(count, (layout ?? throw new ArgumentNullException(nameof(layout))).CodeSize, "bytes"), layout.CodeSize)
    {
        Layout = layout;
    }

    private CodeSet(byte[] codes, CodeLayout layout)
        : base(codes, layout.CodeSize)
    {
        Layout = layout;
    }

    /// <summary>How each code is packed: steps, bits per step and code size.</summary>
    public CodeLayout Layout { get; }

    /// <summary>Number of codes (rows).</summary>
    public int Count => Rows;

    /// <summary>Bytes per code (columns), <c>Layout.CodeSize</c>.</summary>
    public int CodeSize => Columns;

    /// <summary>Wraps (without copying) packed codes, <c>layout.CodeSize</c> bytes each, back to back.</summary>
    /// <param name="codes">The codes; its length must be a multiple of <c>layout.CodeSize</c>.</param>
    /// <param name="layout">How each code is packed.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The length of <paramref name="codes"/> is not a multiple of the code size.</exception>
    public static CodeSet FromArray(byte[] codes, CodeLayout layout)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(layout);
        return new(CheckWholeRows(codes, codes.Length, layout.CodeSize, $"The array holds {codes.Length} bytes",
            $"the code size {layout.CodeSize} ({layout.Steps} steps x {layout.BitsPerStep} bits)"), layout);
    }

    /// <summary>Copies codes <c>[start, start + count)</c> into a new set of the same layout.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The codes are not all in the set.</exception>
    public new CodeSet Slice(int start, int count) => (CodeSet)base.Slice(start, count);

    /// <summary>A deep copy of the set, of the same layout.</summary>
    public new CodeSet Clone() => (CodeSet)base.Clone();

    private protected override string Extent => $"the set of {Count} codes";

    private protected override Matrix<byte> Wrap(byte[] data) => new CodeSet(data, Layout);
}
