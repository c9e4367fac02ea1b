using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

namespace Qinco.Core.Numerics;

/// <summary>
/// The path for very few rows of A (matrix-vector like products), where packing B would cost more than the
/// arithmetic: B is read in place. With op(B) stored [n, k] each element of C is a dot product; otherwise each row of
/// C accumulates scaled rows of B. Columns are split across threads in blocks of 4 vectors, so every element of C sees
/// the same operations whatever the degree of parallelism.
/// </summary>
/// <typeparam name="TOps">The vector operations.</typeparam>
/// <typeparam name="TVec">The vector type.</typeparam>
internal static unsafe class GemmRows<TOps, TVec>
    where TOps : struct, ISimdOps<TVec>
    where TVec : struct
{
    /// <summary>Most rows of A the path is used for.</summary>
    internal const int MaxRows = 4;

    private const long SerialFlops = 1L << 22;

    /// <summary>Runs <c>C = alpha * A * op(B) + beta * C</c> for <c>1 &lt;= m &lt;= MaxRows</c>, n, k &gt;= 1.</summary>
    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, bool transposeB, float alpha, float beta, int threads)
    {
        int block = 4 * TOps.Count;
        var job = new Job { A = a, B = b, C = c, M = m, N = n, K = k, TransposeB = transposeB, Alpha = alpha, Beta = beta };
        if (threads <= 1 || 2.0 * m * n * k < SerialFlops || n <= block)
        {
            job.Run(0, n);
            return;
        }
        int blocks = (n + block - 1) / block;
        int perTask = Math.Max(1, (blocks + (2 * threads) - 1) / (2 * threads)) * block;
        RunParallel(job, (n + perTask - 1) / perTask, perTask, threads);
    }

    // Kept apart from Multiply so that the closure is only allocated when the call really goes parallel.
    private static void RunParallel(Job job, int tasks, int perTask, int threads)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0, tasks, options, t => job.Run(t * perTask, Math.Min(job.N, (t + 1) * perTask)));
    }

    private struct Job
    {
        public float* A;
        public float* B;
        public float* C;
        public int M;
        public int N;
        public int K;
        public bool TransposeB;
        public float Alpha;
        public float Beta;

        /// <summary>Columns [j0, j1) of every row; j0 is a multiple of 4 vectors.</summary>
        public readonly void Run(int j0, int j1)
        {
            for (int i = 0; i < M; i++)
            {
                if (TransposeB)
                {
                    DotRow(i, j0, j1);
                }
                else
                {
                    AxpyRow(i, j0, j1);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void DotRow(int i, int j0, int j1)
        {
            float* x = A + ((nint)i * K);
            float* cRow = C + ((nint)i * N);
            for (int j = j0; j < j1; j++)
            {
                float s = Alpha * Dot(x, B + ((nint)j * K), K);
                cRow[j] = Beta == 0f ? s : s + (Beta * cRow[j]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Dot(float* x, float* y, int k)
        {
            int w = TOps.Count;
            int p = 0;
            float sum = 0f;
            if (k >= w)
            {
                TVec acc0 = TOps.Broadcast(0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                for (; p + (4 * w) <= k; p += 4 * w)
                {
                    acc0 = TOps.MultiplyAdd(TOps.Load(x + p), TOps.Load(y + p), acc0);
                    acc1 = TOps.MultiplyAdd(TOps.Load(x + p + w), TOps.Load(y + p + w), acc1);
                    acc2 = TOps.MultiplyAdd(TOps.Load(x + p + (2 * w)), TOps.Load(y + p + (2 * w)), acc2);
                    acc3 = TOps.MultiplyAdd(TOps.Load(x + p + (3 * w)), TOps.Load(y + p + (3 * w)), acc3);
                }
                for (; p + w <= k; p += w)
                {
                    acc0 = TOps.MultiplyAdd(TOps.Load(x + p), TOps.Load(y + p), acc0);
                }
                sum = TOps.Sum(TOps.Add(TOps.Add(acc0, acc1), TOps.Add(acc2, acc3)));
            }
            for (; p < k; p++)
            {
                sum += x[p] * y[p];
            }
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void AxpyRow(int i, int j0, int j1)
        {
            int w = TOps.Count;
            float* x = A + ((nint)i * K);
            float* cRow = C + ((nint)i * N);
            int j = j0;
            for (; j + (4 * w) <= j1; j += 4 * w)
            {
                TVec acc0 = TOps.Broadcast(0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                float* bp = B + j;
                for (int p = 0; p < K; p++, bp += N)
                {
                    TVec xv = TOps.Broadcast(x[p]);
                    acc0 = TOps.MultiplyAdd(xv, TOps.Load(bp), acc0);
                    acc1 = TOps.MultiplyAdd(xv, TOps.Load(bp + w), acc1);
                    acc2 = TOps.MultiplyAdd(xv, TOps.Load(bp + (2 * w)), acc2);
                    acc3 = TOps.MultiplyAdd(xv, TOps.Load(bp + (3 * w)), acc3);
                }
                Finish(acc0, cRow + j);
                Finish(acc1, cRow + j + w);
                Finish(acc2, cRow + j + (2 * w));
                Finish(acc3, cRow + j + (3 * w));
            }
            for (; j + w <= j1; j += w)
            {
                TVec acc = TOps.Broadcast(0f);
                float* bp = B + j;
                for (int p = 0; p < K; p++, bp += N)
                {
                    acc = TOps.MultiplyAdd(TOps.Broadcast(x[p]), TOps.Load(bp), acc);
                }
                Finish(acc, cRow + j);
            }
            if (j < j1)
            {
                // Fewer than one vector of columns left: the same vector operations on zero-padded copies.
                int cols = j1 - j;
                float* pad = stackalloc float[64];
                new Span<float>(pad, 64).Clear();
                TVec acc = TOps.Broadcast(0f);
                float* bp = B + j;
                for (int p = 0; p < K; p++, bp += N)
                {
                    for (int q = 0; q < cols; q++)
                    {
                        pad[q] = bp[q];
                    }
                    acc = TOps.MultiplyAdd(TOps.Broadcast(x[p]), TOps.Load(pad), acc);
                }
                for (int q = 0; q < cols; q++)
                {
                    pad[q] = cRow[j + q];
                }
                Finish(acc, pad);
                for (int q = 0; q < cols; q++)
                {
                    cRow[j + q] = pad[q];
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Finish(TVec acc, float* c)
        {
            TVec scaled = TOps.Multiply(TOps.Broadcast(Alpha), acc);
            if (Beta != 0f)
            {
                scaled = TOps.Add(scaled, TOps.Multiply(TOps.Broadcast(Beta), TOps.Load(c)));
            }
            TOps.Store(scaled, c);
        }
    }
}
