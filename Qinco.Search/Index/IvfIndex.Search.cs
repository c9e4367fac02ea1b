using System;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Search;

public sealed partial class IvfIndex
{
    /// <summary>One search call: the index, its queries and parameters, and where the results go.</summary>
    private sealed class SearchPlan(IvfIndex index, float[] queries, int k, IvfSearchParameters parameters, long[] ids, float[] distances)
    {
        private readonly bool _rerank = parameters.Rerank && !(index.Decoder.IsExact && index.Norms == NormStorage.Float);
        private readonly bool _middle = parameters.MiddleShortlist > parameters.Shortlist && index.Pairwise is not null;
        private readonly int _nprobe = Math.Min(parameters.NProbe, index.ListCount);
        private readonly KernelVariant _variant = Kernels.Active;

        /// <summary>Searches queries [first, first + rows): one GEMM for their tables, one for their coarse products, then each query alone.</summary>
        public void RunBlock(int first, int rows, SearchScratch s)
        {
            int d = index.Dimension, lists = index.ListCount, columns = index.Steps * LookupTableScan.TableSize;
            ReadOnlySpan<float> q = queries.AsSpan(first * d, rows * d);
            index.Decoder.ComputeLookupTables(q, rows, s.Tables, scale: -2f, maxDegreeOfParallelism: 1);
            Gemm.Multiply(q, index.Codec.Centroids, s.Coarse, rows, lists, d, transposeB: true, alpha: -2f, maxDegreeOfParallelism: 1);
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> query = q.Slice(r * d, d);
                float queryNorm = TensorPrimitives.SumOfSquares(query);
                ReadOnlySpan<float> products = s.Coarse.AsSpan(r * lists, lists);
                for (int l = 0; l < lists; l++)
                {
                    s.Offsets[l] = queryNorm + products[l];
                    s.CoarseDistances[l] = s.Offsets[l] + index._centroidNorms[l];
                }
                ReadOnlySpan<int> probes = SelectProbes(s);
                Scan(probes, s.Tables.AsSpan(r * columns, columns), s);
                Collect(query, first + r, s);
                if (s.PendingCandidates >= DecodeBatch)
                {
                    Flush(q, first, s);
                }
            }
            Flush(q, first, s);
        }

        /// <summary>The nprobe lists of smallest coarse distance (all lists when nprobe is the list count), in heap order.</summary>
        private ReadOnlySpan<int> SelectProbes(SearchScratch s)
        {
            int lists = index.ListCount;
            Span<int> probes = s.Probes.AsSpan(0, _nprobe);
            if (_nprobe == lists)
            {
                for (int l = 0; l < lists; l++)
                {
                    probes[l] = l;
                }
                return probes;
            }
            s.ProbeCollector.Reset(_nprobe);
            s.ProbeCollector.Offer(s.CoarseDistances, 0f, 0);
            ReadOnlySpan<long> keys = s.ProbeCollector.Keys;
            for (int i = 0; i < _nprobe; i++)
            {
                probes[i] = (int)keys[i];
            }
            return probes;
        }

        private void Scan(ReadOnlySpan<int> probes, ReadOnlySpan<float> queryTable, SearchScratch s)
        {
            long scanned = 0;
            foreach (int l in probes)
            {
                scanned += index._lists[l].Count;
            }
            s.Collector.Reset((int)Math.Min(_middle ? parameters.MiddleShortlist : parameters.Shortlist, scanned));
            int m = index.Steps, columns = queryTable.Length;
            (float normScale, float normOffset) = index.NormDequantization();
            foreach (int l in probes)
            {
                InvertedList list = index._lists[l];
                if (list.Count == 0)
                {
                    continue;
                }
                ReadOnlySpan<float> table = queryTable;
                float offset = s.Offsets[l];
                if (index.Norms == NormStorage.Byte)
                {
                    TensorPrimitives.Add(queryTable, index._listTables.AsSpan(l * columns, columns), s.ListTable);
                    table = s.ListTable;
                    offset = s.CoarseDistances[l];
                }
                for (int start = 0; start < list.Count; start += ScanChunk)
                {
                    int n = Math.Min(ScanChunk, list.Count - start);
                    ReadOnlySpan<float> bias;
                    if (index.Norms == NormStorage.Float)
                    {
                        bias = list.FloatNorms.AsSpan(start, n);
                    }
                    else
                    {
                        Span<float> dequantized = s.Bias.AsSpan(0, n);
                        TensorPrimitives.ConvertTruncating<byte, float>(list.ByteNorms.AsSpan(start, n), dequantized);
                        TensorPrimitives.Multiply(dequantized, normScale, dequantized);
                        TensorPrimitives.Add(dequantized, normOffset, dequantized);
                        bias = dequantized;
                    }
                    Span<float> raw = s.Raw.AsSpan(0, n);
                    LookupTableScan.SumUnchecked(table, list.Codes.AsSpan(start * m), m, bias, raw, _variant);
                    s.Collector.Offer(raw, offset, ((long)l << 32) | (uint)start);
                }
            }
        }

        /// <summary>
        /// Moves the query's shortlist into the block's pending candidates, after narrowing it with the pairwise decoder
        /// when the middle stage is on.
        /// </summary>
        private void Collect(ReadOnlySpan<float> query, int queryIndex, SearchScratch s)
        {
            int count = s.Collector.Count, d = index.Dimension, m = index.Steps;
            Span<Candidate> candidates = s.Pending(queryIndex, count);
            ReadOnlySpan<long> keys = s.Collector.Keys;
            for (int i = 0; i < count; i++)
            {
                candidates[i] = new Candidate(s.Collector.Distances[i], IdOf(keys[i]), keys[i]);
            }
            if (!_middle || count == 0)
            {
                return;
            }
            PairwiseDecoder pairwise = index.Pairwise!;
            Span<float> reconstruction = stackalloc float[d];
            Span<byte> code = stackalloc byte[m];
            for (int i = 0; i < count; i++)
            {
                (int l, int position) = Split(candidates[i].Key);
                index._lists[l].ReadCode(position, code);
                pairwise.Decode(l, code, reconstruction);
                TensorPrimitives.Add(reconstruction, index.Codec.Centroids.Slice(l * d, d), reconstruction);
                candidates[i] = candidates[i] with { Distance = Distances.SquaredL2(query, reconstruction) };
            }
            candidates.Sort();
            s.Truncate(Math.Min(count, parameters.Shortlist));
        }

        /// <summary>
        /// Decodes every pending candidate of the block with one call of the quantizer (unless the table distances are
        /// kept), re-ranks each query's candidates by exact L2, sorts them by (distance, id) and writes the first k.
        /// </summary>
        private void Flush(ReadOnlySpan<float> blockQueries, int first, SearchScratch s)
        {
            int total = s.PendingCandidates, m = index.Steps, d = index.Dimension;
            Span<Candidate> all = s.Candidates.AsSpan(0, total);
            if (_rerank && total > 0)
            {
                s.ReserveDecode(total, m, d);
                for (int i = 0; i < total; i++)
                {
                    (int l, int position) = Split(all[i].Key);
                    s.Lists[i] = l;
                    index._lists[l].ReadCode(position, s.Codes.AsSpan(i * m, m));
                }
                Span<float> decoded = s.Decoded.AsSpan(0, total * d);
                index.Codec.Decode(s.Lists.AsSpan(0, total), s.Codes.AsSpan(0, total * m), decoded);
                foreach ((int queryIndex, int start, int count) in s.PendingQueries)
                {
                    ReadOnlySpan<float> query = blockQueries.Slice((queryIndex - first) * d, d);
                    for (int i = start; i < start + count; i++)
                    {
                        all[i] = all[i] with { Distance = Distances.SquaredL2(query, decoded.Slice(i * d, d)) };
                    }
                }
            }
            foreach ((int queryIndex, int start, int count) in s.PendingQueries)
            {
                Span<Candidate> candidates = all.Slice(start, count);
                candidates.Sort();
                int results = Math.Min(k, count);
                for (int i = 0; i < results; i++)
                {
                    ids[((long)queryIndex * k) + i] = candidates[i].Id;
                    distances[((long)queryIndex * k) + i] = candidates[i].Distance;
                }
            }
            s.ClearPending();
        }

        private long IdOf(long key)
        {
            (int l, int position) = Split(key);
            return index._lists[l].Ids[position];
        }

        private static (int List, int Position) Split(long key) => ((int)(key >> 32), (int)(uint)key);
    }

    /// <summary>A result candidate, ordered by distance then id.</summary>
    private readonly record struct Candidate(float Distance, long Id, long Key) : IComparable<Candidate>
    {
        public int CompareTo(Candidate other)
        {
            int c = Distance.CompareTo(other.Distance);
            return c != 0 ? c : Id.CompareTo(other.Id);
        }
    }

    /// <summary>Buffers of one search thread, reused across its query blocks.</summary>
    private sealed class SearchScratch
    {
        public SearchScratch(IvfIndex index)
        {
            int columns = index.Steps * LookupTableScan.TableSize, lists = index.ListCount;
            Tables = new float[QueryBlock * columns];
            Coarse = new float[QueryBlock * lists];
            ListTable = new float[columns];
            Offsets = new float[lists];
            CoarseDistances = new float[lists];
            Probes = new int[lists];
        }

        public float[] Tables { get; }

        public float[] Coarse { get; }

        public float[] ListTable { get; }

        public float[] Offsets { get; }

        public float[] CoarseDistances { get; }

        public int[] Probes { get; }

        public ShortlistCollector ProbeCollector { get; } = new();

        public float[] Bias { get; } = new float[ScanChunk];

        public float[] Raw { get; } = new float[ScanChunk];

        public ShortlistCollector Collector { get; } = new();

        public Candidate[] Candidates { get; private set; } = [];

        public int[] Lists { get; private set; } = [];

        public byte[] Codes { get; private set; } = [];

        public float[] Decoded { get; private set; } = [];

        /// <summary>The queries whose candidates wait in <see cref="Candidates"/>: (query index, first candidate, count).</summary>
        public System.Collections.Generic.List<(int Query, int Start, int Count)> PendingQueries { get; } = [];

        /// <summary>Candidates waiting for the block's decode.</summary>
        public int PendingCandidates { get; private set; }

        /// <summary>Room for <paramref name="count"/> candidates of query <paramref name="queryIndex"/> after the pending ones.</summary>
        public Span<Candidate> Pending(int queryIndex, int count)
        {
            int needed = PendingCandidates + count;
            if (Candidates.Length < needed)
            {
                var grown = new Candidate[Math.Max(needed, Candidates.Length * 2)];
                Candidates.AsSpan(0, PendingCandidates).CopyTo(grown);
                Candidates = grown;
            }
            PendingQueries.Add((queryIndex, PendingCandidates, count));
            Span<Candidate> room = Candidates.AsSpan(PendingCandidates, count);
            PendingCandidates = needed;
            return room;
        }

        /// <summary>Keeps only the first <paramref name="count"/> candidates of the last pending query.</summary>
        public void Truncate(int count)
        {
            (int query, int start, int old) = PendingQueries[^1];
            PendingQueries[^1] = (query, start, count);
            PendingCandidates -= old - count;
        }

        public void ClearPending()
        {
            PendingQueries.Clear();
            PendingCandidates = 0;
        }

        public void ReserveDecode(int count, int steps, int dimension)
        {
            if (Lists.Length < count)
            {
                Lists = new int[count];
                Codes = new byte[count * steps];
                Decoded = new float[count * dimension];
            }
        }
    }
}
