using System;
using System.Globalization;

namespace Qinco.Core.IO;

/// <summary>
/// A half-open range of rows <c>[Start, End)</c> of a vector file; <see cref="End"/> <see langword="null"/> means "to the
/// end of the file". Written <c>"A:B"</c>, <c>"A:"</c> (from A to the end) or <c>":B"</c> (from 0 to B), as the command
/// line's <c>--train-rows 0:4500</c>. The default value is the whole file.
/// </summary>
public readonly record struct RowRange
{
    /// <summary>Creates the range <c>[start, end)</c>, or <c>[start, end of file)</c> when <paramref name="end"/> is null.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative start, or an end before the start.</exception>
    public RowRange(int start, int? end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (end is int e && e < start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), $"The row range end {e} is before its start {start}.");
        }
        Start = start;
        End = end;
    }

    /// <summary>The first row of the range.</summary>
    public int Start { get; }

    /// <summary>One past the last row of the range, or <see langword="null"/> for the end of the file.</summary>
    public int? End { get; }

    /// <summary>Every row of the file.</summary>
    public static RowRange All => default;

    /// <summary>Rows from <paramref name="start"/> to the end of the file.</summary>
    public static RowRange From(int start) => new(start, null);

    /// <summary>
    /// Parses <c>"A:B"</c> (rows A to B-1), <c>"A:"</c> (A to the end) or <c>":B"</c> (0 to B-1); A and B are
    /// non-negative integers with A &lt;= B.
    /// </summary>
    /// <exception cref="FormatException">The text is not such a range; the message says why.</exception>
    public static RowRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out RowRange range, out string? error) ? range : throw new FormatException(error);
    }

    /// <summary>Parses like <see cref="Parse(string)"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out RowRange range) => TryParse(text, out range, out _);

    private static bool TryParse(string? text, out RowRange range, out string? error)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "A row range is empty; expected \"start:end\", \"start:\" or \":end\", e.g. \"0:4500\".";
            return false;
        }
        string trimmed = text.Trim();
        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || trimmed.IndexOf(':', colon + 1) >= 0)
        {
            error = $"The row range \"{text}\" needs exactly one ':'; expected \"start:end\", \"start:\" or \":end\", e.g. \"0:4500\".";
            return false;
        }
        string startText = trimmed[..colon].Trim();
        string endText = trimmed[(colon + 1)..].Trim();
        int start = 0;
        if (startText.Length > 0 && !TryParseRow(startText, out start))
        {
            error = $"The row range \"{text}\" has start \"{startText}\", which is not a non-negative integer.";
            return false;
        }
        int? end = null;
        if (endText.Length > 0)
        {
            if (!TryParseRow(endText, out int e))
            {
                error = $"The row range \"{text}\" has end \"{endText}\", which is not a non-negative integer.";
                return false;
            }
            if (e < start)
            {
                error = $"The row range \"{text}\" ends ({e}) before it starts ({start}).";
                return false;
            }
            end = e;
        }
        range = new RowRange(start, end);
        error = null;
        return true;
    }

    private static bool TryParseRow(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>The range as <c>"A:B"</c> or <c>"A:"</c>, which <see cref="Parse(string)"/> reads back.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Start}:{End}");
}
