using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Qinco.Core.Numerics;

namespace Qinco.Search;

/// <summary>
/// Sums of look-up-table entries over byte codes (ALGORITHM.md §4.2, (4.3)): for every code <c>k_1..k_M</c>,
/// <c>destination[i] = bias[i] + Σ_m tables[m·256 + k_{i,m}]</c>. The codes are stored in blocks of
/// <see cref="BlockSize"/>: within a block, byte m of the 16 codes is contiguous (<see cref="Interleave"/>), so one
/// SIMD load gives step m's indices of 16 codes.
/// </summary>
/// <remarks>
/// <para>One driver (<c>ScanDriver</c>) handles blocks and the partial last block; the work on one block is written
/// once per width as an operator struct: <c>Vector512</c> (16 lanes), <c>Vector256</c> (2 × 8), <c>Vector128</c>
/// (4 × 4) and scalar, chosen by <see cref="Kernels.Active"/> (tests force each with <see cref="Kernels.Force"/>).
/// The vector widths gather table entries with AVX2's gather where the CPU has it (.NET offers no 512-bit gather,
/// so the 512-bit operator gathers 2 × 8 and adds in 16 lanes) and with element loads elsewhere (e.g. Arm64).</para>
/// <para>Every width adds, for each code, the bias first and then the M entries in step order, so all widths give
/// bit-identical sums.</para>
/// <para>Codes are one byte per step: tables have 256 entries per step (K = 256).</para>
/// </remarks>
public static class LookupTableScan
{
    /// <summary>Codes per block of the interleaved layout.</summary>
    public const int BlockSize = 16;

    /// <summary>Entries per step's table (K = 256: one byte per code index).</summary>
    public const int TableSize = 256;

    /// <summary>Bytes the interleaved layout needs for <paramref name="count"/> codes of <paramref name="steps"/> bytes: whole blocks.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count or a step count below 1.</exception>
    public static long InterleavedLength(int count, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return (((long)count + BlockSize - 1) / BlockSize) * BlockSize * steps;
    }

    /// <summary>Rewrites row-major codes [count, steps] into the block layout; the unused lanes of a partial last block are zero.</summary>
    /// <param name="codes">Shape: [count, steps], one byte per index.</param>
    /// <param name="steps">M, bytes per code.</param>
    /// <param name="destination">At least <see cref="InterleavedLength"/> bytes.</param>
    /// <exception cref="ArgumentException">The codes are not whole, or the destination is too short.</exception>
    public static void Interleave(ReadOnlySpan<byte> codes, int steps, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (codes.Length % steps != 0)
        {
            throw new ArgumentException($"The codes hold {codes.Length} bytes, not a whole number of {steps}-byte codes.", nameof(codes));
        }
        int count = codes.Length / steps;
        long needed = InterleavedLength(count, steps);
        if (destination.Length < needed)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {count} codes need {needed}.", nameof(destination));
        }
        destination[..(int)needed].Clear();
        for (int i = 0; i < count; i++)
        {
            WriteCode(destination, steps, i, codes.Slice(i * steps, steps));
        }
    }

    /// <summary>Writes code <paramref name="position"/> (M bytes) into an interleaved buffer.</summary>
    internal static void WriteCode(Span<byte> blocked, int steps, int position, ReadOnlySpan<byte> code)
    {
        int start = (position / BlockSize * BlockSize * steps) + (position % BlockSize);
        for (int m = 0; m < steps; m++)
        {
            blocked[start + (m * BlockSize)] = code[m];
        }
    }

    /// <summary>Reads code <paramref name="position"/> (M bytes) from an interleaved buffer.</summary>
    internal static void ReadCode(ReadOnlySpan<byte> blocked, int steps, int position, Span<byte> code)
    {
        int start = (position / BlockSize * BlockSize * steps) + (position % BlockSize);
        for (int m = 0; m < steps; m++)
        {
            code[m] = blocked[start + (m * BlockSize)];
        }
    }

    /// <summary>
    /// <c>destination[i] = bias[i] + Σ_m tables[m·256 + code_i[m]]</c> for the <c>destination.Length</c> codes of an
    /// interleaved buffer, with the <see cref="Kernels.Active"/> width.
    /// </summary>
    /// <param name="tables">Shape: [steps, 256].</param>
    /// <param name="blockedCodes">Interleaved codes (<see cref="Interleave"/>), at least <c>InterleavedLength(count, steps)</c> bytes.</param>
    /// <param name="steps">M, at least 1.</param>
    /// <param name="bias">Shape: [count]: a per-code term added first (e.g. the stored norm).</param>
    /// <param name="destination">Shape: [count]; count = its length.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
    public static void Sum(ReadOnlySpan<float> tables, ReadOnlySpan<byte> blockedCodes, int steps, ReadOnlySpan<float> bias, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        int count = destination.Length;
        if (tables.Length < (long)steps * TableSize)
        {
            throw new ArgumentException($"The tables hold {tables.Length} floats; {steps} steps need {(long)steps * TableSize}.", nameof(tables));
        }
        if (blockedCodes.Length < InterleavedLength(count, steps))
        {
            throw new ArgumentException($"The codes hold {blockedCodes.Length} bytes; {count} interleaved codes need {InterleavedLength(count, steps)}.", nameof(blockedCodes));
        }
        if (bias.Length < count)
        {
            throw new ArgumentException($"The bias holds {bias.Length} floats; {count} codes need as many.", nameof(bias));
        }
        SumUnchecked(tables, blockedCodes, steps, bias, destination, Kernels.Active);
    }

    /// <summary><see cref="Sum"/> without the checks, with a chosen variant (the index's inner loop).</summary>
    internal static unsafe void SumUnchecked(ReadOnlySpan<float> tables, ReadOnlySpan<byte> blockedCodes, int steps, ReadOnlySpan<float> bias, Span<float> destination, KernelVariant variant)
    {
        fixed (float* t = tables, b = bias, d = destination)
        fixed (byte* c = blockedCodes)
        {
            int count = destination.Length;
            switch (variant)
            {
                case KernelVariant.Vector512 when Vector512.IsHardwareAccelerated:
                    ScanDriver<Block512>.Run(t, c, steps, b, d, count);
                    break;
                case KernelVariant.Vector512 or KernelVariant.Vector256 when Vector256.IsHardwareAccelerated:
                    ScanDriver<Block256>.Run(t, c, steps, b, d, count);
                    break;
                case KernelVariant.Vector512 or KernelVariant.Vector256 or KernelVariant.Vector128 when Vector128.IsHardwareAccelerated:
                    ScanDriver<Block128>.Run(t, c, steps, b, d, count);
                    break;
                default:
                    ScanDriver<BlockScalar>.Run(t, c, steps, b, d, count);
                    break;
            }
        }
    }

    /// <summary>The work on one block of 16 codes: bias plus M table entries per code.</summary>
    private interface IBlockOperator
    {
        static abstract unsafe void Invoke(float* tables, byte* codes, int steps, float* bias, float* destination);
    }

    /// <summary>Loops over whole blocks, then runs the partial last block on padded copies.</summary>
    private static class ScanDriver<TOperator>
        where TOperator : struct, IBlockOperator
    {
        public static unsafe void Run(float* tables, byte* codes, int steps, float* bias, float* destination, int count)
        {
            int full = count / BlockSize;
            int blockBytes = BlockSize * steps;
            for (int block = 0; block < full; block++)
            {
                TOperator.Invoke(tables, codes + ((long)block * blockBytes), steps, bias + (block * BlockSize), destination + (block * BlockSize));
            }
            int rest = count - (full * BlockSize);
            if (rest > 0)
            {
                float* paddedBias = stackalloc float[BlockSize];
                float* paddedOut = stackalloc float[BlockSize];
                new Span<float>(paddedBias, BlockSize).Clear();
                new ReadOnlySpan<float>(bias + (full * BlockSize), rest).CopyTo(new Span<float>(paddedBias, rest));
                TOperator.Invoke(tables, codes + ((long)full * blockBytes), steps, paddedBias, paddedOut);
                new ReadOnlySpan<float>(paddedOut, rest).CopyTo(new Span<float>(destination + (full * BlockSize), rest));
            }
        }
    }

    private readonly struct BlockScalar : IBlockOperator
    {
        /// <summary>Four codes at a time, so that four independent sums hide the latency of the loads and adds.</summary>
        public static unsafe void Invoke(float* tables, byte* codes, int steps, float* bias, float* destination)
        {
            for (int lane = 0; lane < BlockSize; lane += 4)
            {
                float s0 = bias[lane], s1 = bias[lane + 1], s2 = bias[lane + 2], s3 = bias[lane + 3];
                byte* c = codes + lane;
                float* t = tables;
                for (int m = 0; m < steps; m++, c += BlockSize, t += TableSize)
                {
                    s0 += t[c[0]];
                    s1 += t[c[1]];
                    s2 += t[c[2]];
                    s3 += t[c[3]];
                }
                destination[lane] = s0;
                destination[lane + 1] = s1;
                destination[lane + 2] = s2;
                destination[lane + 3] = s3;
            }
        }
    }

    private readonly struct Block128 : IBlockOperator
    {
        public static unsafe void Invoke(float* tables, byte* codes, int steps, float* bias, float* destination)
        {
            Vector128<float> a0 = Vector128.Load(bias), a1 = Vector128.Load(bias + 4), a2 = Vector128.Load(bias + 8), a3 = Vector128.Load(bias + 12);
            float* t = tables;
            for (int m = 0; m < steps; m++, t += TableSize)
            {
                Vector128<byte> bytes = Vector128.Load(codes + (m * BlockSize));
                Vector128<ushort> low = Vector128.WidenLower(bytes), high = Vector128.WidenUpper(bytes);
                a0 += Gather(t, Vector128.WidenLower(low).AsInt32());
                a1 += Gather(t, Vector128.WidenUpper(low).AsInt32());
                a2 += Gather(t, Vector128.WidenLower(high).AsInt32());
                a3 += Gather(t, Vector128.WidenUpper(high).AsInt32());
            }
            a0.Store(destination);
            a1.Store(destination + 4);
            a2.Store(destination + 8);
            a3.Store(destination + 12);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector128<float> Gather(float* table, Vector128<int> indices) => Avx2.IsSupported
            ? Avx2.GatherVector128(table, indices, 4)
            : Vector128.Create(table[indices.GetElement(0)], table[indices.GetElement(1)], table[indices.GetElement(2)], table[indices.GetElement(3)]);
    }

    private readonly struct Block256 : IBlockOperator
    {
        public static unsafe void Invoke(float* tables, byte* codes, int steps, float* bias, float* destination)
        {
            Vector256<float> a0 = Vector256.Load(bias), a1 = Vector256.Load(bias + 8);
            float* t = tables;
            for (int m = 0; m < steps; m++, t += TableSize)
            {
                (Vector256<int> low, Vector256<int> high) = Indices(codes + (m * BlockSize));
                a0 += Gather(t, low);
                a1 += Gather(t, high);
            }
            a0.Store(destination);
            a1.Store(destination + 8);
        }

        /// <summary>The 16 indices of one step, zero-extended to two vectors of 8 int32.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static unsafe (Vector256<int> Low, Vector256<int> High) Indices(byte* bytes)
        {
            if (Avx2.IsSupported)
            {
                return (Avx2.ConvertToVector256Int32(bytes), Avx2.ConvertToVector256Int32(bytes + 8));
            }
            Vector256<ushort> wide = Vector256.WidenLower(Vector128.Load(bytes).ToVector256Unsafe());
            return (Vector256.WidenLower(wide).AsInt32(), Vector256.WidenUpper(wide).AsInt32());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static unsafe Vector256<float> Gather(float* table, Vector256<int> indices) => Avx2.IsSupported
            ? Avx2.GatherVector256(table, indices, 4)
            : Vector256.Create(
                table[indices.GetElement(0)], table[indices.GetElement(1)], table[indices.GetElement(2)], table[indices.GetElement(3)],
                table[indices.GetElement(4)], table[indices.GetElement(5)], table[indices.GetElement(6)], table[indices.GetElement(7)]);
    }

    private readonly struct Block512 : IBlockOperator
    {
        public static unsafe void Invoke(float* tables, byte* codes, int steps, float* bias, float* destination)
        {
            Vector512<float> acc = Vector512.Load(bias);
            float* t = tables;
            for (int m = 0; m < steps; m++, t += TableSize)
            {
                (Vector256<int> low, Vector256<int> high) = Block256.Indices(codes + (m * BlockSize));
                acc += Vector512.Create(Block256.Gather(t, low), Block256.Gather(t, high));
            }
            acc.Store(destination);
        }
    }
}
