using System;
using System.Buffers.Binary;

namespace Qinco.Tests.Formats;

/// <summary>Random damage to a container file (model or index) for the robustness tests.</summary>
internal static class FileMutations
{
    /// <summary>A bit flip, a truncation, appended bytes, a zeroed range, or payload bytes changed with the checksum recomputed.</summary>
    public static (byte[] Bytes, string What) Mutate(byte[] original, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0:
                int bit = random.Next(bytes.Length * 8);
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                return (bytes, $"bit {bit} flipped");
            case 1:
                int length = random.Next(bytes.Length);
                return (bytes[..length], $"truncated to {length} bytes");
            case 2:
                byte[] extra = new byte[1 + random.Next(64)];
                random.NextBytes(extra);
                return ([.. bytes, .. extra], $"{extra.Length} bytes appended");
            case 3:
                int start = random.Next(bytes.Length), count = Math.Min(1 + random.Next(32), bytes.Length - start);
                Array.Clear(bytes, start, count);
                return (bytes, $"bytes {start}..{start + count} zeroed");
            default:
                const int Header = 28;
                int changes = 1 + random.Next(4);
                for (int c = 0; c < changes; c++)
                {
                    bytes[Header + random.Next(bytes.Length - Header)] = (byte)random.Next(256);
                }
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(Header)));
                return (bytes, $"{changes} payload bytes changed, checksum recomputed");
        }
    }
}
