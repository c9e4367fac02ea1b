using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace Qinco.Training;

/// <summary>
/// Everything needed to continue a training run exactly where it stopped: parameters, optimiser moments,
/// schedule state, position (epoch, batch), best-validation snapshot, history and the shuffle seed.
/// Produced by <see cref="TrainingResult.Checkpoint"/> or <see cref="Trainer.CheckpointSink"/>; consumed by
/// <see cref="Trainer.Resume"/>.
/// </summary>
/// <remarks>
/// <para>Binary layout (version 1), all integers and floats little-endian:</para>
/// <code>
/// u8[8]  magic "QNCTRCK1"
/// u32    format version written (1)      u32 minimum reader version (1)
/// i32    seed, batch size, workers
/// i32    next epoch, next batch          u8 epoch phase (0 not started, 1 in batches, 2 batches done)
/// f64    epoch loss sum                  i64 epoch rows            i64 elapsed ticks
/// i32    best epoch (−1 = none)          f64 best metric           i32 epochs since improvement
/// f64    last learning rate
/// u8     optimiser kind                  i64 optimiser step count
/// u8     schedule kind                   i32 n, f64[n] schedule state
/// i32    P parameters, each: i32 name byte count, UTF-8 name, i32 rank, i32[rank] shape, i32 length L,
///        f32[L] values, f32[L] first moments, f32[L] second moments
/// u8     has best snapshot; if 1: i32 L, f32[L]
/// i32    H history entries, each: i32 epoch, f64 train loss, u8 has validation, f64 validation, f64 lr
/// u32    CRC-32 (IEEE) of every preceding byte
/// </code>
/// <para>The permutation of epoch e depends only on seed + e, so the seed and position are the RNG state.</para>
/// </remarks>
public sealed class TrainingCheckpoint
{
    /// <summary>The format version this build writes.</summary>
    public const int FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "QNCTRCK1"u8;

    internal int Seed;
    internal int BatchSize;
    internal int Workers;
    internal int NextEpochField;
    internal int NextBatchField;
    internal byte Phase;
    internal double EpochLossSum;
    internal long EpochRows;
    internal long ElapsedTicks;
    internal int BestEpochField = -1;
    internal double BestMetric = double.PositiveInfinity;
    internal int EpochsSinceImprovement;
    internal double LastLearningRate;
    internal OptimizerKind OptimizerKind;
    internal long OptimizerStepCount;
    internal ScheduleKind ScheduleKind;
    internal double[] ScheduleState = [];
    internal string[] Names = [];
    internal int[][] Shapes = [];
    internal float[][] Values = [];
    internal float[][] FirstMoments = [];
    internal float[][] SecondMoments = [];
    internal float[]? BestSnapshot;
    internal List<EpochRecord> HistoryList = [];

    internal TrainingCheckpoint()
    {
    }

    /// <summary>The epoch the run continues with (0-based).</summary>
    public int NextEpoch => NextEpochField;

    /// <summary>The batch of <see cref="NextEpoch"/> the run continues with.</summary>
    public int NextBatch => NextBatchField;

    /// <summary>Number of completed epochs.</summary>
    public int EpochsCompleted => HistoryList.Count;

    /// <summary>Best epoch so far, null when never validated.</summary>
    public int? BestEpoch => BestEpochField >= 0 ? BestEpochField : null;

    /// <summary>Best validation value so far, null when never validated.</summary>
    public double? BestValidationMetric => BestEpochField >= 0 ? BestMetric : null;

    /// <summary>The shuffle seed of the run.</summary>
    public int ShuffleSeed => Seed;

    /// <summary>Per-epoch history up to the checkpoint.</summary>
    public IReadOnlyList<EpochRecord> History => HistoryList;

    /// <summary>Names of the parameters, in order.</summary>
    public IReadOnlyList<string> ParameterNames => Names;

    /// <summary>Writes the checkpoint to <paramref name="stream"/> (layout in the type's remarks).</summary>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)FormatVersion);
            w.Write(1u);
            w.Write(Seed);
            w.Write(BatchSize);
            w.Write(Workers);
            w.Write(NextEpochField);
            w.Write(NextBatchField);
            w.Write(Phase);
            w.Write(EpochLossSum);
            w.Write(EpochRows);
            w.Write(ElapsedTicks);
            w.Write(BestEpochField);
            w.Write(BestMetric);
            w.Write(EpochsSinceImprovement);
            w.Write(LastLearningRate);
            w.Write((byte)OptimizerKind);
            w.Write(OptimizerStepCount);
            w.Write((byte)ScheduleKind);
            w.Write(ScheduleState.Length);
            foreach (double d in ScheduleState)
            {
                w.Write(d);
            }
            w.Write(Names.Length);
            for (int i = 0; i < Names.Length; i++)
            {
                byte[] name = Encoding.UTF8.GetBytes(Names[i]);
                w.Write(name.Length);
                w.Write(name);
                w.Write(Shapes[i].Length);
                foreach (int dim in Shapes[i])
                {
                    w.Write(dim);
                }
                w.Write(Values[i].Length);
                WriteFloats(w, Values[i]);
                WriteFloats(w, FirstMoments[i]);
                WriteFloats(w, SecondMoments[i]);
            }
            w.Write(BestSnapshot is null ? (byte)0 : (byte)1);
            if (BestSnapshot is not null)
            {
                w.Write(BestSnapshot.Length);
                WriteFloats(w, BestSnapshot);
            }
            w.Write(HistoryList.Count);
            foreach (EpochRecord r in HistoryList)
            {
                w.Write(r.Epoch);
                w.Write(r.TrainLoss);
                w.Write(r.ValidationMetric.HasValue ? (byte)1 : (byte)0);
                w.Write(r.ValidationMetric ?? 0.0);
                w.Write(r.LearningRate);
            }
        }
        uint crc = Crc32.HashToUInt32(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        buffer.Write(tail);
        stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads a checkpoint written by <see cref="Save(Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">Not a checkpoint, written by a newer version, truncated, corrupt
    /// (checksum mismatch) or inconsistent.</exception>
    public static TrainingCheckpoint Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes;
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        if (bytes.Length < Magic.Length + 12 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a Qinco training checkpoint (bad magic or too short).");
        }
        uint minReader = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(Magic.Length + 4));
        if (minReader > FormatVersion)
        {
            uint written = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(Magic.Length));
            throw new InvalidDataException($"The checkpoint was written by a newer version (format {written}, needs reader {minReader}); this build reads format {FormatVersion}.");
        }
        int payloadLength = bytes.Length - 4;
        uint expected = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(payloadLength));
        if (Crc32.HashToUInt32(bytes.AsSpan(0, payloadLength)) != expected)
        {
            throw new InvalidDataException("The checkpoint is truncated or corrupt (CRC-32 mismatch).");
        }
        var r = new Reader(bytes.AsSpan(0, payloadLength), Magic.Length + 8);
        var c = new TrainingCheckpoint
        {
            Seed = r.Int32(),
            BatchSize = r.Int32(),
            Workers = r.Int32(),
            NextEpochField = r.Int32(),
            NextBatchField = r.Int32(),
            Phase = r.Byte(),
            EpochLossSum = r.Double(),
            EpochRows = r.Int64(),
            ElapsedTicks = r.Int64(),
            BestEpochField = r.Int32(),
            BestMetric = r.Double(),
            EpochsSinceImprovement = r.Int32(),
            LastLearningRate = r.Double(),
            OptimizerKind = (OptimizerKind)r.Byte(),
            OptimizerStepCount = r.Int64(),
            ScheduleKind = (ScheduleKind)r.Byte(),
        };
        c.ScheduleState = new double[r.Count(8)];
        for (int i = 0; i < c.ScheduleState.Length; i++)
        {
            c.ScheduleState[i] = r.Double();
        }
        int p = r.Count(12);
        c.Names = new string[p];
        c.Shapes = new int[p][];
        c.Values = new float[p][];
        c.FirstMoments = new float[p][];
        c.SecondMoments = new float[p][];
        for (int i = 0; i < p; i++)
        {
            c.Names[i] = r.Utf8(r.Count(1));
            int rank = r.Count(4);
            c.Shapes[i] = new int[rank];
            long product = 1;
            for (int k = 0; k < rank; k++)
            {
                int dim = r.Int32();
                Check(dim >= 0, "negative dimension");
                c.Shapes[i][k] = dim;
                product = Math.Min(product * dim, long.MaxValue / 2);
            }
            int length = r.Count(12);
            Check(product == length, $"parameter '{c.Names[i]}' shape does not match its length");
            c.Values[i] = r.Floats(length);
            c.FirstMoments[i] = r.Floats(length);
            c.SecondMoments[i] = r.Floats(length);
        }
        if (r.Byte() != 0)
        {
            c.BestSnapshot = r.Floats(r.Count(4));
        }
        int h = r.Count(29);
        for (int i = 0; i < h; i++)
        {
            int epoch = r.Int32();
            double loss = r.Double();
            bool hasValidation = r.Byte() != 0;
            double validation = r.Double();
            double lr = r.Double();
            c.HistoryList.Add(new EpochRecord { Epoch = epoch, TrainLoss = loss, ValidationMetric = hasValidation ? validation : null, LearningRate = lr, });
        }
        Check(r.AtEnd, "trailing bytes after the history");
        Check(Enum.IsDefined(c.OptimizerKind) && Enum.IsDefined(c.ScheduleKind), "unknown optimiser or schedule kind");
        Check(c.Phase <= 2 && c.NextEpochField >= 0 && c.NextBatchField >= 0 && c.BatchSize > 0 && c.EpochRows >= 0 && c.ElapsedTicks >= 0 && c.OptimizerStepCount >= 0, "invalid position fields");
        return c;
    }

    internal static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidDataException($"The checkpoint is inconsistent: {what}.");
        }
    }

    private static void WriteFloats(BinaryWriter w, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            foreach (float f in values)
            {
                w.Write(f);
            }
        }
    }

    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _position;

        public Reader(ReadOnlySpan<byte> data, int position)
        {
            _data = data;
            _position = position;
        }

        public readonly bool AtEnd => _position == _data.Length;

        public byte Byte() => Take(1)[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

        /// <summary>Reads a count and checks that that many items of at least <paramref name="minItemBytes"/> bytes can still follow.</summary>
        public int Count(int minItemBytes)
        {
            int n = Int32();
            Check(n >= 0 && (long)n * minItemBytes <= _data.Length - _position, "a count exceeds the remaining data");
            return n;
        }

        public string Utf8(int byteCount) => Encoding.UTF8.GetString(Take(byteCount));

        public float[] Floats(int count)
        {
            ReadOnlySpan<byte> bytes = Take(checked(count * 4));
            var result = new float[count];
            for (int i = 0; i < count; i++)
            {
                result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4));
            }
            return result;
        }

        private ReadOnlySpan<byte> Take(int n)
        {
            Check(n >= 0 && n <= _data.Length - _position, "unexpected end of data");
            ReadOnlySpan<byte> slice = _data.Slice(_position, n);
            _position += n;
            return slice;
        }
    }
}
