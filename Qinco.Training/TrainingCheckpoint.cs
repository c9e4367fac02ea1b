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
/// <para>The permutation of epoch e depends only on seed + e, so the seed and position are the RNG state. A checkpoint
/// is an immutable snapshot: it holds deep copies of the run's state, taken between optimiser steps.</para>
/// </remarks>
public sealed class TrainingCheckpoint
{
    /// <summary>The format version this build writes.</summary>
    public const int FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "QNCTRCK1"u8;

    private readonly TrainingRunState _state;
    private readonly int _seed;
    private readonly int _batchSize;
    private readonly int _workers;
    private readonly OptimizerKind _optimizerKind;
    private readonly ScheduleKind _scheduleKind;
    private readonly double[] _scheduleState;
    private readonly string[] _names;
    private readonly int[][] _shapes;
    private readonly float[][] _values;

    private TrainingCheckpoint(TrainingRunState state, int seed, int batchSize, int workers, OptimizerKind optimizerKind, ScheduleKind scheduleKind, double[] scheduleState, string[] names, int[][] shapes, float[][] values, OptimizerState optimizerState)
    {
        _state = state;
        _seed = seed;
        _batchSize = batchSize;
        _workers = workers;
        _optimizerKind = optimizerKind;
        _scheduleKind = scheduleKind;
        _scheduleState = scheduleState;
        _names = names;
        _shapes = shapes;
        _values = values;
        OptimizerState = optimizerState;
    }

    /// <summary>The epoch the run continues with (0-based).</summary>
    public int NextEpoch => _state.NextEpoch;

    /// <summary>The batch of <see cref="NextEpoch"/> the run continues with.</summary>
    public int NextBatch => _state.NextBatch;

    /// <summary>Number of completed epochs.</summary>
    public int EpochsCompleted => _state.History.Count;

    /// <summary>Best epoch so far, null when never validated.</summary>
    public int? BestEpoch => _state.BestEpochOrNull;

    /// <summary>Best validation value so far, null when never validated.</summary>
    public double? BestValidationMetric => _state.BestValidationMetric;

    /// <summary>The shuffle seed of the run.</summary>
    public int ShuffleSeed => _seed;

    /// <summary>Per-epoch history up to the checkpoint.</summary>
    public IReadOnlyList<EpochRecord> History => _state.History;

    /// <summary>Names of the parameters, in order.</summary>
    public IReadOnlyList<string> ParameterNames => _names;

    /// <summary>The optimiser's step count and moments, one array per parameter.</summary>
    internal OptimizerState OptimizerState { get; }

    /// <summary>Snapshot of a run: deep copies of <paramref name="state"/> and of the host parameter values (synchronised by the caller).</summary>
    internal static TrainingCheckpoint Capture(TrainingRunState state, TrainingOptions options, ParameterSet parameters, OptimizerState optimizerState, double[] scheduleState)
    {
        var names = new string[parameters.Count];
        var shapes = new int[parameters.Count][];
        var values = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            names[i] = parameters[i].Name;
            shapes[i] = (int[])parameters[i].ShapeArray.Clone();
            values[i] = (float[])parameters[i].Value.Clone();
        }
        return new TrainingCheckpoint(state.Clone(), options.Seed, options.BatchSize, options.Workers, options.Optimizer, options.Schedule, scheduleState, names, shapes, values, optimizerState);
    }

    /// <summary>
    /// Checks that the checkpoint fits <paramref name="options"/> and <paramref name="parameters"/>, imports the
    /// schedule state, writes the parameter values into the host arrays and returns a copy of the run state. The
    /// optimiser state (<see cref="OptimizerState"/>) is left to the device.
    /// </summary>
    /// <exception cref="ArgumentException">Another seed, batch size, optimiser, schedule or parameter layout.</exception>
    internal TrainingRunState Restore(TrainingOptions options, ParameterSet parameters, LearningRateSchedule schedule)
    {
        if (_seed != options.Seed)
        {
            throw new ArgumentException($"The checkpoint was made with Seed {_seed}, the options have {options.Seed}.", "checkpoint");
        }
        if (_batchSize != options.BatchSize)
        {
            throw new ArgumentException($"The checkpoint was made with BatchSize {_batchSize}, the options have {options.BatchSize}.", "checkpoint");
        }
        if (_optimizerKind != options.Optimizer || _scheduleKind != options.Schedule)
        {
            throw new ArgumentException("The checkpoint was made with another optimiser or schedule.", "checkpoint");
        }
        if (_names.Length != parameters.Count)
        {
            throw new ArgumentException($"The checkpoint holds {_names.Length} parameters, the model {parameters.Count}.", "checkpoint");
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            if (_names[i] != p.Name || !_shapes[i].AsSpan().SequenceEqual(p.ShapeArray))
            {
                throw new ArgumentException($"Checkpoint parameter {i} is '{_names[i]}' [{string.Join(", ", _shapes[i])}], the model's is {p}.", "checkpoint");
            }
        }
        if (_state.BestSnapshot is not null && _state.BestSnapshot.Length != parameters.TotalElementCount)
        {
            throw new ArgumentException("The checkpoint's best snapshot does not match the parameter count.", "checkpoint");
        }
        schedule.ImportState(_scheduleState);
        for (int i = 0; i < parameters.Count; i++)
        {
            _values[i].AsSpan().CopyTo(parameters[i].Value);
        }
        return _state.Clone();
    }

    /// <summary>Writes the checkpoint to <paramref name="stream"/> (layout in the type's remarks).</summary>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        TrainingRunState s = _state;
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)FormatVersion);
            w.Write(1u);
            w.Write(_seed);
            w.Write(_batchSize);
            w.Write(_workers);
            w.Write(s.NextEpoch);
            w.Write(s.NextBatch);
            w.Write((byte)s.Phase);
            w.Write(s.EpochLossSum);
            w.Write(s.EpochRows);
            w.Write(s.ElapsedTicks);
            w.Write(s.BestEpoch);
            w.Write(s.BestMetric);
            w.Write(s.EpochsSinceImprovement);
            w.Write(s.LastLearningRate);
            w.Write((byte)_optimizerKind);
            w.Write(OptimizerState.StepCount);
            w.Write((byte)_scheduleKind);
            w.Write(_scheduleState.Length);
            foreach (double d in _scheduleState)
            {
                w.Write(d);
            }
            w.Write(_names.Length);
            for (int i = 0; i < _names.Length; i++)
            {
                byte[] name = Encoding.UTF8.GetBytes(_names[i]);
                w.Write(name.Length);
                w.Write(name);
                w.Write(_shapes[i].Length);
                foreach (int dim in _shapes[i])
                {
                    w.Write(dim);
                }
                w.Write(_values[i].Length);
                WriteFloats(w, _values[i]);
                WriteFloats(w, OptimizerState.FirstMoments[i]);
                WriteFloats(w, OptimizerState.SecondMoments[i]);
            }
            w.Write(s.BestSnapshot is null ? (byte)0 : (byte)1);
            if (s.BestSnapshot is not null)
            {
                w.Write(s.BestSnapshot.Length);
                WriteFloats(w, s.BestSnapshot);
            }
            w.Write(s.History.Count);
            foreach (EpochRecord r in s.History)
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
        int seed = r.Int32();
        int batchSize = r.Int32();
        int workers = r.Int32();
        var s = new TrainingRunState
        {
            NextEpoch = r.Int32(),
            NextBatch = r.Int32(),
            Phase = (EpochPhase)r.Byte(),
            EpochLossSum = r.Double(),
            EpochRows = r.Int64(),
            ElapsedTicks = r.Int64(),
            BestEpoch = r.Int32(),
            BestMetric = r.Double(),
            EpochsSinceImprovement = r.Int32(),
            LastLearningRate = r.Double(),
        };
        var optimizerKind = (OptimizerKind)r.Byte();
        long stepCount = r.Int64();
        var scheduleKind = (ScheduleKind)r.Byte();
        var scheduleState = new double[r.Count(8)];
        for (int i = 0; i < scheduleState.Length; i++)
        {
            scheduleState[i] = r.Double();
        }
        int p = r.Count(12);
        var names = new string[p];
        var shapes = new int[p][];
        var values = new float[p][];
        var firstMoments = new float[p][];
        var secondMoments = new float[p][];
        for (int i = 0; i < p; i++)
        {
            names[i] = r.Utf8(r.Count(1));
            int rank = r.Count(4);
            shapes[i] = new int[rank];
            long product = 1;
            for (int k = 0; k < rank; k++)
            {
                int dim = r.Int32();
                Check(dim >= 0, "negative dimension");
                shapes[i][k] = dim;
                product = Math.Min(product * dim, long.MaxValue / 2);
            }
            int length = r.Count(12);
            Check(product == length, $"parameter '{names[i]}' shape does not match its length");
            values[i] = r.Floats(length);
            firstMoments[i] = r.Floats(length);
            secondMoments[i] = r.Floats(length);
        }
        if (r.Byte() != 0)
        {
            s.BestSnapshot = r.Floats(r.Count(4));
        }
        int h = r.Count(29);
        for (int i = 0; i < h; i++)
        {
            int epoch = r.Int32();
            double loss = r.Double();
            bool hasValidation = r.Byte() != 0;
            double validation = r.Double();
            double lr = r.Double();
            s.History.Add(new EpochRecord { Epoch = epoch, TrainLoss = loss, ValidationMetric = hasValidation ? validation : null, LearningRate = lr, });
        }
        Check(r.AtEnd, "trailing bytes after the history");
        Check(Enum.IsDefined(optimizerKind) && Enum.IsDefined(scheduleKind), "unknown optimiser or schedule kind");
        Check((byte)s.Phase <= 2 && s.NextEpoch >= 0 && s.NextBatch >= 0 && batchSize > 0 && s.EpochRows >= 0 && s.ElapsedTicks >= 0 && stepCount >= 0, "invalid position fields");
        var optimizerState = new OptimizerState(stepCount, firstMoments, secondMoments);
        return new TrainingCheckpoint(s, seed, batchSize, workers, optimizerKind, scheduleKind, scheduleState, names, shapes, values, optimizerState);
    }

    private static void Check(bool condition, string what)
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
