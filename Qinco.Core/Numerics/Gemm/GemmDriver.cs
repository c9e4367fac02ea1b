using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;

namespace Qinco.Core.Numerics;

/// <summary>
/// The blocked SGEMM driver (GotoBLAS / BLIS loop structure) around one micro-kernel.
/// </summary>
/// <remarks>
/// <para>
/// op(B) is packed once per call into kc x <c>Nr</c> micro-panels, k block by k block (in parallel for large B). The
/// rows of C are then cut into chunks of up to <see cref="McTarget"/> rows (and, when there are too few row chunks to
/// feed every thread, the columns into chunks of micro-panels); each (row chunk, column chunk) task packs its rows of A
/// into a per-thread buffer, one k block at a time, and sweeps the micro-kernel over the tiles, keeping one B
/// micro-panel hot in L1 while the packed A block streams from L2.
/// </para>
/// <para>
/// Determinism: the k blocking depends only on k, every tile (edge tiles included, through a scratch tile) runs the
/// same full-size micro-kernel on zero-padded panels, and k blocks are folded into C in order. So each element of C is
/// produced by the same operation sequence whatever the degree of parallelism or task split.
/// </para>
/// </remarks>
/// <typeparam name="TKernel">The micro-kernel.</typeparam>
internal static unsafe class GemmDriver<TKernel>
    where TKernel : struct, ISgemmMicroKernel
{
    /// <summary>Largest k block; k is split into equal blocks no longer than this.</summary>
    internal const int KcMax = 256;

    /// <summary>Rows of A packed per task (rounded down to whole tiles); the packed block lives in L2.</summary>
    internal const int McTarget = 192;

    /// <summary>Below this many flops the call runs on the calling thread.</summary>
    private const long SerialFlops = 1L << 23;

    /// <summary>Below this many packed floats B is packed on the calling thread.</summary>
    private const long SerialPackFloats = 1L << 18;

    /// <summary>Widest C for which A is read in place (see <see cref="UseDirectA"/>).</summary>
    internal const int DirectAMaxN = 512;

    /// <summary>Row stride of A (floats) from which A is always packed (see <see cref="UseDirectA"/>).</summary>
    internal const int DirectAMaxK = 1024;

    private static readonly int s_mcTiles = Math.Max(1, McTarget / TKernel.Mr);

    // Per-thread pinned scratch: the packed A block, then one edge tile. Allocated once per thread and kernel.
    [ThreadStatic]
    private static float[]? s_scratch;

    /// <summary>Runs <c>C = alpha * A * op(B) + beta * C</c>, packing op(B) first; arguments are already validated.</summary>
    public static void Multiply(
        float* a, float* b, float* c, int m, int n, int k, bool transposeB, float alpha, float beta, int threads)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            ScaleC(c, (nint)m * n, beta);
            return;
        }
        threads = EffectiveThreads(m, n, k, threads);
        float[] packed = ArrayPool<float>.Shared.Rent(PackedLength(n, k));
        try
        {
            fixed (float* packedBase = packed)
            {
                float* packedB = AlignUp(packedBase);
                PackB(b, n, k, transposeB, packedB, threads);
                MultiplyPacked(a, packedB, c, m, n, k, alpha, beta, threads);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>
    /// Floats to allocate for op(B) (<c>[k, n]</c>, n and k at least 1) packed by <see cref="PackB"/>, with the slack
    /// <see cref="AlignUp"/> needs to start it on a 64-byte boundary.
    /// </summary>
    public static int PackedLength(int n, int k) => checked((int)(((long)((n + TKernel.Nr - 1) / TKernel.Nr) * TKernel.Nr * k) + 16));

    /// <summary>
    /// Packs op(B) into kc x <c>Nr</c> micro-panels, k block by k block, at <paramref name="packedB"/> (64-byte
    /// aligned, <see cref="PackedLength"/> floats); in parallel when large. The layout depends only on n, k and the
    /// kernel, so one packing serves any A.
    /// </summary>
    public static void PackB(float* b, int n, int k, bool transposeB, float* packedB, int threads)
    {
        var plan = new Plan { B = b, PackedB = packedB, N = n, K = k, TransposeB = transposeB };
        plan.SetKBlocking();
        int packs = plan.KBlocks * plan.NPanels;
        if (threads > 1 && packs > 1 && (long)plan.NPanels * TKernel.Nr * k >= SerialPackFloats)
        {
            ForEachParallel(plan, packs, threads, packB: true);
        }
        else
        {
            for (int i = 0; i < packs; i++)
            {
                plan.PackB(i);
            }
        }
    }

    /// <summary>
    /// Runs <c>C = alpha * A * op(B) + beta * C</c> with op(B) already packed by <see cref="PackB"/>; m, n and k at least
    /// 1, arguments already validated.
    /// </summary>
    public static void MultiplyPacked(float* a, float* packedB, float* c, int m, int n, int k, float alpha, float beta, int threads)
    {
        threads = EffectiveThreads(m, n, k, threads);
        var plan = new Plan { A = a, PackedB = packedB, C = c, M = m, N = n, K = k, Alpha = alpha, Beta = beta, DirectA = UseDirectA(n, k) };
        plan.SetKBlocking();

        int mTiles = (m + TKernel.Mr - 1) / TKernel.Mr;
        int rowChunks = (mTiles + s_mcTiles - 1) / s_mcTiles;
        int colChunks = 1;
        if (threads > 1)
        {
            if (rowChunks >= threads)
            {
                rowChunks = Math.Min(mTiles, (rowChunks + threads - 1) / threads * threads);
            }
            else
            {
                colChunks = Math.Min(plan.NPanels, ((2 * threads) + rowChunks - 1) / rowChunks);
            }
        }
        plan.TilesPerChunk = (mTiles + rowChunks - 1) / rowChunks;
        rowChunks = (mTiles + plan.TilesPerChunk - 1) / plan.TilesPerChunk;
        plan.PanelsPerChunk = (plan.NPanels + colChunks - 1) / colChunks;
        plan.ColChunks = (plan.NPanels + plan.PanelsPerChunk - 1) / plan.PanelsPerChunk;

        int tasks = rowChunks * plan.ColChunks;
        if (threads > 1 && tasks > 1)
        {
            ForEachParallel(plan, tasks, threads, packB: false);
        }
        else
        {
            for (int t = 0; t < tasks; t++)
            {
                plan.RunTask(t);
            }
        }
    }

    /// <summary>One thread below <see cref="SerialFlops"/>, where starting tasks costs more than it saves.</summary>
    private static int EffectiveThreads(int m, int n, int k, int threads) => 2.0 * m * n * k < SerialFlops ? 1 : threads;

    /// <summary>
    /// Whether the micro-kernel reads A in place instead of packing it: packing A costs about as much as the
    /// arithmetic when n is small (the QINCo layers), while a short row stride keeps the in-place rows free of
    /// cache-set conflicts.
    /// </summary>
    internal static bool UseDirectA(int n, int k) => n <= DirectAMaxN && k < DirectAMaxK;

    // Kept apart from Multiply so that the closure is only allocated when the call really goes parallel.
    private static void ForEachParallel(Plan plan, int count, int threads, bool packB)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        if (packB)
        {
            Parallel.For(0, count, options, i => plan.PackB(i));
        }
        else
        {
            Parallel.For(0, count, options, t => plan.RunTask(t));
        }
    }

    private static void ScaleC(float* c, nint length, float beta)
    {
        var span = new Span<float>(c, checked((int)length));
        if (beta == 0f)
        {
            span.Clear();
        }
        else if (beta != 1f)
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] *= beta;
            }
        }
    }

    internal static float* AlignUp(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);

    private static float* Scratch()
    {
        float[]? scratch = s_scratch;
        if (scratch is null)
        {
            int length = (s_mcTiles * TKernel.Mr * KcMax) + (TKernel.Mr * TKernel.Nr) + 16;
            scratch = GC.AllocateArray<float>(length, pinned: true);
            s_scratch = scratch;
        }
        return AlignUp((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(scratch)));
    }

    /// <summary>Packs <paramref name="rows"/> rows (zero-padded to whole tiles) by kc columns of A, tile by tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(float* src, nint lda, int rows, int kc, float* dst)
    {
        int mr = TKernel.Mr;
        for (int r0 = 0; r0 < rows; r0 += mr)
        {
            float* d = dst + ((nint)r0 * kc);
            int rr = Math.Min(mr, rows - r0);
            for (int r = 0; r < rr; r++)
            {
                float* s = src + ((r0 + r) * lda);
                float* dr = d + r;
                for (int p = 0; p < kc; p++)
                {
                    dr[(nint)p * mr] = s[p];
                }
            }
            for (int r = rr; r < mr; r++)
            {
                float* dr = d + r;
                for (int p = 0; p < kc; p++)
                {
                    dr[(nint)p * mr] = 0f;
                }
            }
        }
    }

    private struct Plan
    {
        public float* A;
        public float* B;
        public float* C;
        public float* PackedB;
        public int M;
        public int N;
        public int K;
        public bool TransposeB;
        public float Alpha;
        public float Beta;
        public int Kc;
        public int KBlocks;
        public int NPanels;
        public int TilesPerChunk;
        public int PanelsPerChunk;
        public int ColChunks;
        public bool DirectA;

        /// <summary>Splits k into <see cref="KBlocks"/> equal blocks of at most <see cref="KcMax"/> and n into micro-panels.</summary>
        public void SetKBlocking()
        {
            KBlocks = (K + KcMax - 1) / KcMax;
            Kc = (K + KBlocks - 1) / KBlocks;
            NPanels = (N + TKernel.Nr - 1) / TKernel.Nr;
        }

        /// <summary>Packs micro-panel <c>index % NPanels</c> of k block <c>index / NPanels</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void PackB(int index)
        {
            int nr = TKernel.Nr;
            int q = index / NPanels, jp = index % NPanels;
            int p0 = q * Kc;
            int kc = Math.Min(Kc, K - p0);
            int j0 = jp * nr;
            int cols = Math.Min(nr, N - j0);
            float* d = PackedB + ((nint)p0 * NPanels * nr) + ((nint)jp * kc * nr);
            if (!TransposeB)
            {
                float* s = B + ((nint)p0 * N) + j0;
                for (int p = 0; p < kc; p++, s += N, d += nr)
                {
                    if (cols == nr)
                    {
                        Unsafe.CopyBlockUnaligned(d, s, (uint)(nr * sizeof(float)));
                    }
                    else
                    {
                        Unsafe.CopyBlockUnaligned(d, s, (uint)(cols * sizeof(float)));
                        new Span<float>(d + cols, nr - cols).Clear();
                    }
                }
            }
            else
            {
                // op(B) columns are rows of B: gather four at a time so each packed row gets 16-byte stores.
                int col = 0;
                for (; col + 4 <= cols; col += 4)
                {
                    float* s0 = B + ((nint)(j0 + col) * K) + p0;
                    float* s1 = s0 + K;
                    float* s2 = s1 + K;
                    float* s3 = s2 + K;
                    float* dc = d + col;
                    for (int p = 0; p < kc; p++, dc += nr)
                    {
                        Vector128.Create(s0[p], s1[p], s2[p], s3[p]).Store(dc);
                    }
                }
                for (; col < cols; col++)
                {
                    float* s = B + ((nint)(j0 + col) * K) + p0;
                    float* dc = d + col;
                    for (int p = 0; p < kc; p++)
                    {
                        dc[(nint)p * nr] = s[p];
                    }
                }
                for (int padCol = cols; padCol < nr; padCol++)
                {
                    float* dc = d + padCol;
                    for (int p = 0; p < kc; p++)
                    {
                        dc[(nint)p * nr] = 0f;
                    }
                }
            }
        }

        /// <summary>Computes one (row chunk, column chunk) block of C over all k blocks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void RunTask(int task)
        {
            int mr = TKernel.Mr, nr = TKernel.Nr;
            int rowChunk = task / ColChunks, colChunk = task % ColChunks;
            int i0 = rowChunk * TilesPerChunk * mr;
            int jp0 = colChunk * PanelsPerChunk;
            int jp1 = Math.Min(NPanels, jp0 + PanelsPerChunk);
            if (i0 >= M || jp0 >= jp1)
            {
                return;
            }
            int rows = Math.Min(TilesPerChunk * mr, M - i0);
            float* aPack = Scratch();
            float* edge = aPack + (s_mcTiles * mr * KcMax);
            nint ldc = N;

            for (int q = 0; q < KBlocks; q++)
            {
                int p0 = q * Kc;
                int kc = Math.Min(Kc, K - p0);
                bool accumulate = q > 0 || Beta != 0f;
                float betaEff = q > 0 ? 1f : Beta;
                float* aBlock = A + ((nint)i0 * K) + p0;
                int fullRows = rows / mr * mr;
                if (DirectA)
                {
                    // Only the partial last tile (if any) is packed, zero-padded, at the start of the buffer.
                    PackA(aBlock + ((nint)fullRows * K), K, rows - fullRows, kc, aPack);
                }
                else
                {
                    PackA(aBlock, K, rows, kc, aPack);
                }
                float* bBlock = PackedB + ((nint)p0 * NPanels * nr);

                for (int jp = jp0; jp < jp1; jp++)
                {
                    float* bPanel = bBlock + ((nint)jp * kc * nr);
                    int cols = Math.Min(nr, N - (jp * nr));
                    float* cTile = C + ((nint)i0 * ldc) + (jp * nr);
                    if (DirectA)
                    {
                        float* aRows = aBlock;
                        int r0 = 0;
                        if (cols == nr)
                        {
                            for (; r0 < fullRows; r0 += mr, aRows += mr * (nint)K, cTile += mr * ldc)
                            {
                                TKernel.RunDirect(aRows, K, bPanel, kc, cTile, ldc, Alpha, betaEff, accumulate);
                            }
                        }
                        else
                        {
                            for (; r0 < fullRows; r0 += mr, aRows += mr * (nint)K, cTile += mr * ldc)
                            {
                                EdgeTileDirect(aRows, bPanel, kc, cTile, ldc, mr, cols, edge, betaEff, accumulate);
                            }
                        }
                        if (r0 < rows)
                        {
                            EdgeTile(aPack, bPanel, kc, cTile, ldc, rows - r0, cols, edge, betaEff, accumulate);
                        }
                    }
                    else
                    {
                        float* aPanel = aPack;
                        for (int r0 = 0; r0 < rows; r0 += mr, aPanel += (nint)mr * kc, cTile += mr * ldc)
                        {
                            int rr = Math.Min(mr, rows - r0);
                            if (rr == mr && cols == nr)
                            {
                                TKernel.Run(aPanel, bPanel, kc, cTile, ldc, Alpha, betaEff, accumulate);
                            }
                            else
                            {
                                EdgeTile(aPanel, bPanel, kc, cTile, ldc, rr, cols, edge, betaEff, accumulate);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>A full-height tile with fewer than Nr columns, A read in place; as <see cref="EdgeTile"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void EdgeTileDirect(
            float* aRows, float* bPanel, int kc, float* cTile, nint ldc, int rows, int cols, float* edge, float betaEff, bool accumulate)
        {
            int nr = TKernel.Nr;
            if (accumulate)
            {
                for (int r = 0; r < rows; r++)
                {
                    Unsafe.CopyBlockUnaligned(edge + (r * nr), cTile + (r * ldc), (uint)(cols * sizeof(float)));
                }
            }
            TKernel.RunDirect(aRows, K, bPanel, kc, edge, nr, Alpha, betaEff, accumulate);
            for (int r = 0; r < rows; r++)
            {
                Unsafe.CopyBlockUnaligned(cTile + (r * ldc), edge + (r * nr), (uint)(cols * sizeof(float)));
            }
        }

        /// <summary>A partial tile: run the full kernel on a scratch tile, copying the valid part of C in and out.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void EdgeTile(
            float* aPanel, float* bPanel, int kc, float* cTile, nint ldc, int rows, int cols, float* edge, float betaEff, bool accumulate)
        {
            int nr = TKernel.Nr;
            if (accumulate)
            {
                for (int r = 0; r < rows; r++)
                {
                    Unsafe.CopyBlockUnaligned(edge + (r * nr), cTile + (r * ldc), (uint)(cols * sizeof(float)));
                }
            }
            TKernel.Run(aPanel, bPanel, kc, edge, nr, Alpha, betaEff, accumulate);
            for (int r = 0; r < rows; r++)
            {
                Unsafe.CopyBlockUnaligned(cTile + (r * ldc), edge + (r * nr), (uint)(cols * sizeof(float)));
            }
        }
    }
}
