using System;

namespace Qinco.Search;

/// <summary>One inverted list: codes in the interleaved block layout of <see cref="LookupTableScan"/>, their stored norms (float or byte) and 64-bit ids.</summary>
internal sealed class InvertedList(int steps, NormStorage norms)
{
    public byte[] Codes { get; private set; } = [];

    public float[] FloatNorms { get; private set; } = [];

    public byte[] ByteNorms { get; private set; } = [];

    public long[] Ids { get; private set; } = [];

    public int Count { get; private set; }

    /// <summary>Bytes held for this list's entries (capacity, not count).</summary>
    public long AllocatedBytes => Codes.LongLength + (FloatNorms.LongLength * 4) + ByteNorms.LongLength + (Ids.LongLength * 8);

    public void Append(ReadOnlySpan<byte> code, float floatNorm, byte byteNorm, long id)
    {
        Reserve(Count + 1);
        LookupTableScan.WriteCode(Codes, steps, Count, code);
        if (norms == NormStorage.Float)
        {
            FloatNorms[Count] = floatNorm;
        }
        else
        {
            ByteNorms[Count] = byteNorm;
        }
        Ids[Count] = id;
        Count++;
    }

    public void ReadCode(int position, Span<byte> code) => LookupTableScan.ReadCode(Codes, steps, position, code);

    /// <summary>Removes the entry at <paramref name="position"/> by moving the last entry into its place.</summary>
    public void RemoveAt(int position)
    {
        int last = Count - 1;
        if (position != last)
        {
            Span<byte> code = stackalloc byte[steps];
            ReadCode(last, code);
            LookupTableScan.WriteCode(Codes, steps, position, code);
            if (norms == NormStorage.Float)
            {
                FloatNorms[position] = FloatNorms[last];
            }
            else
            {
                ByteNorms[position] = ByteNorms[last];
            }
            Ids[position] = Ids[last];
        }
        Span<byte> zero = stackalloc byte[steps];
        zero.Clear();
        LookupTableScan.WriteCode(Codes, steps, last, zero);
        Count = last;
    }

    public void Reserve(int count)
    {
        if (count <= Ids.Length)
        {
            return;
        }
        int capacity = Math.Max(count, Math.Max(LookupTableScan.BlockSize, Ids.Length * 2));
        capacity = (capacity + LookupTableScan.BlockSize - 1) / LookupTableScan.BlockSize * LookupTableScan.BlockSize;
        var codes = new byte[LookupTableScan.InterleavedLength(capacity, steps)];
        Codes.CopyTo(codes, 0);
        Codes = codes;
        var ids = new long[capacity];
        Ids.AsSpan(0, Count).CopyTo(ids);
        Ids = ids;
        if (norms == NormStorage.Float)
        {
            var f = new float[capacity];
            FloatNorms.AsSpan(0, Count).CopyTo(f);
            FloatNorms = f;
        }
        else
        {
            var b = new byte[capacity];
            ByteNorms.AsSpan(0, Count).CopyTo(b);
            ByteNorms = b;
        }
    }
}
