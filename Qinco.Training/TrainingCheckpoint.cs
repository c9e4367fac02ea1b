using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
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

    private TrainingCheckpoint()
    {
    }

    /// <summary>The epoch the run continues with (0-based).</summary>
    public int NextEpoch => State.NextEpoch;

    /// <summary>The batch of <see cref="NextEpoch"/> the run continues with.</summary>
    public int NextBatch => State.NextBatch;

    /// <summary>Number of completed epochs.</summary>
    public int EpochsCompleted => State.History.Count;

    /// <summary>Best epoch so far, null when never validated.</summary>
    public int? BestEpoch => State.BestEpochOrNull;

    /// <summary>Best validation value so far, null when never validated.</summary>
    public double? BestValidationMetric => State.BestValidationMetric;

    /// <summary>The shuffle seed of the run.</summary>
    public int ShuffleSeed => Seed;

    /// <summary>Per-epoch history up to the checkpoint.</summary>
    public IReadOnlyList<EpochRecord> History => State.History;

    /// <summary>Names of the parameters, in order.</summary>
    public IReadOnlyList<string> ParameterNames => Array.ConvertAll(Tensors, t => t.Name);

    /// <summary>The optimiser's step count and moments, one array per parameter.</summary>
    internal OptimizerState OptimizerState { get; private init; } = new(0, [], []);

    // Set only by Capture and Load: a checkpoint never changes.
    private TrainingRunState State { get; init; } = new();
    private int Seed { get; init; }
    private int BatchSize { get; init; }
    private int Workers { get; init; }
    private OptimizerKind OptimizerKind { get; init; }
    private ScheduleKind ScheduleKind { get; init; }
    private double[] ScheduleState { get; init; } = [];
    private Tensor[] Tensors { get; init; } = [];

    /// <summary>Snapshot of a run: deep copies of <paramref name="state"/> and of the host parameter values (synchronised by the caller).</summary>
    internal static TrainingCheckpoint Capture(TrainingRunState state, TrainingOptions options, ParameterSet parameters, OptimizerState optimizerState, double[] scheduleState) => new()
    {
        State = state.Clone(),
        Seed = options.Seed,
        BatchSize = options.BatchSize,
        Workers = options.Workers,
        OptimizerKind = options.Optimizer,
        ScheduleKind = options.Schedule,
        ScheduleState = scheduleState,
        Tensors = [.. parameters.Select(p => new Tensor(p.Name, (int[])p.ShapeArray.Clone(), (float[])p.Value.Clone()))],
        OptimizerState = optimizerState,
    };

    /// <summary>
    /// Checks that the checkpoint fits <paramref name="options"/> and <paramref name="parameters"/>, imports the
    /// schedule state, writes the parameter values into the host arrays and returns a copy of the run state. The
    /// optimiser state (<see cref="OptimizerState"/>) is left to the device.
    /// </summary>
    /// <exception cref="ArgumentException">Another seed, batch size, optimiser, schedule or parameter layout.</exception>
    internal TrainingRunState Restore(TrainingOptions options, ParameterSet parameters, LearningRateSchedule schedule)
    {
        if (Seed != options.Seed || BatchSize != options.BatchSize || OptimizerKind != options.Optimizer || ScheduleKind != options.Schedule)
        {
            throw new ArgumentException($"The checkpoint was made with Seed {Seed}, BatchSize {BatchSize}, {OptimizerKind} and the {ScheduleKind} schedule; the options have Seed {options.Seed}, BatchSize {options.BatchSize}, {options.Optimizer} and {options.Schedule}.", "checkpoint");
        }
        if (Tensors.Length != parameters.Count)
        {
            throw new ArgumentException($"The checkpoint holds {Tensors.Length} parameters, the model {parameters.Count}.", "checkpoint");
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            if (Tensors[i].Name != parameters[i].Name || !Tensors[i].Shape.AsSpan().SequenceEqual(parameters[i].ShapeArray))
            {
                throw new ArgumentException($"Checkpoint parameter {i} is '{Tensors[i].Name}' [{string.Join(", ", Tensors[i].Shape)}], the model's is {parameters[i]}.", "checkpoint");
            }
        }
        if (State.BestSnapshot is not null && State.BestSnapshot.Length != parameters.TotalElementCount)
        {
            throw new ArgumentException("The checkpoint's best snapshot does not match the parameter count.", "checkpoint");
        }
        schedule.ImportState(ScheduleState);
        for (int i = 0; i < parameters.Count; i++)
        {
            Tensors[i].Values.AsSpan().CopyTo(parameters[i].Value);
        }
        return State.Clone();
    }

    /// <summary>Writes the checkpoint to <paramref name="stream"/> (layout in the type's remarks).</summary>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        TrainingRunState s = State;
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)FormatVersion);
            w.Write(1u);
            w.Write(Seed);
            w.Write(BatchSize);
            w.Write(Workers);
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
            w.Write((byte)OptimizerKind);
            w.Write(OptimizerState.StepCount);
            w.Write((byte)ScheduleKind);
            w.Write(ScheduleState.Length);
            foreach (double d in ScheduleState)
            {
                w.Write(d);
            }
            w.Write(Tensors.Length);
            for (int i = 0; i < Tensors.Length; i++)
            {
                byte[] name = Encoding.UTF8.GetBytes(Tensors[i].Name);
                w.Write(name.Length);
                w.Write(name);
                w.Write(Tensors[i].Shape.Length);
                foreach (int dim in Tensors[i].Shape)
                {
                    w.Write(dim);
                }
                w.Write(Tensors[i].Values.Length);
                WriteFloats(w, Tensors[i].Values);
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
        using var reader = new BinaryReader(new MemoryStream(bytes, 0, payloadLength));
        reader.BaseStream.Position = Magic.Length + 8;
        try
        {
            return Read(reader);
        }
        catch (EndOfStreamException)
        {
            throw Inconsistent("unexpected end of data");
        }
    }

    /// <summary>Reads the fields after the versions, checking every count against the bytes left.</summary>
    private static TrainingCheckpoint Read(BinaryReader r)
    {
        int seed = r.ReadInt32();
        int batchSize = r.ReadInt32();
        int workers = r.ReadInt32();
        var s = new TrainingRunState
        {
            NextEpoch = r.ReadInt32(),
            NextBatch = r.ReadInt32(),
            Phase = (EpochPhase)r.ReadByte(),
            EpochLossSum = r.ReadDouble(),
            EpochRows = r.ReadInt64(),
            ElapsedTicks = r.ReadInt64(),
            BestEpoch = r.ReadInt32(),
            BestMetric = r.ReadDouble(),
            EpochsSinceImprovement = r.ReadInt32(),
            LastLearningRate = r.ReadDouble(),
        };
        var optimizerKind = (OptimizerKind)r.ReadByte();
        long stepCount = r.ReadInt64();
        var scheduleKind = (ScheduleKind)r.ReadByte();
        double[] scheduleState = new double[ReadCount(r, 8)];
        for (int i = 0; i < scheduleState.Length; i++)
        {
            scheduleState[i] = r.ReadDouble();
        }
        var tensors = new Tensor[ReadCount(r, 12)];
        var firstMoments = new float[tensors.Length][];
        var secondMoments = new float[tensors.Length][];
        for (int i = 0; i < tensors.Length; i++)
        {
            string name = Encoding.UTF8.GetString(r.ReadBytes(ReadCount(r, 1)));
            var shape = new int[ReadCount(r, 4)];
            long product = 1;
            for (int k = 0; k < shape.Length; k++)
            {
                shape[k] = r.ReadInt32();
                Check(shape[k] >= 0, "negative dimension");
                product = Math.Min(product * shape[k], long.MaxValue / 2);
            }
            int length = ReadCount(r, 12);
            Check(product == length, $"parameter '{name}' shape does not match its length");
            tensors[i] = new Tensor(name, shape, ReadFloats(r, length));
            firstMoments[i] = ReadFloats(r, length);
            secondMoments[i] = ReadFloats(r, length);
        }
        if (r.ReadByte() != 0)
        {
            s.BestSnapshot = ReadFloats(r, ReadCount(r, 4));
        }
        int historyCount = ReadCount(r, 29);
        for (int i = 0; i < historyCount; i++)
        {
            int epoch = r.ReadInt32();
            double loss = r.ReadDouble();
            bool hasValidation = r.ReadByte() != 0;
            double validation = r.ReadDouble();
            s.History.Add(new EpochRecord { Epoch = epoch, TrainLoss = loss, ValidationMetric = hasValidation ? validation : null, LearningRate = r.ReadDouble() });
        }
        Check(r.BaseStream.Position == r.BaseStream.Length, "trailing bytes after the history");
        Check(Enum.IsDefined(optimizerKind) && Enum.IsDefined(scheduleKind), "unknown optimiser or schedule kind");
        Check(s.Phase <= EpochPhase.BatchesDone && s.NextEpoch >= 0 && s.NextBatch >= 0 && batchSize > 0 && s.EpochRows >= 0 && s.ElapsedTicks >= 0 && stepCount >= 0, "invalid position fields");
        return new TrainingCheckpoint
        {
            State = s,
            Seed = seed,
            BatchSize = batchSize,
            Workers = workers,
            OptimizerKind = optimizerKind,
            ScheduleKind = scheduleKind,
            ScheduleState = scheduleState,
            Tensors = tensors,
            OptimizerState = new OptimizerState(stepCount, firstMoments, secondMoments),
        };
    }

    /// <summary>Reads a count and checks that that many items of at least <paramref name="minItemBytes"/> bytes can still follow.</summary>
    private static int ReadCount(BinaryReader r, int minItemBytes)
    {
        int n = r.ReadInt32();
        Check(n >= 0 && (long)n * minItemBytes <= r.BaseStream.Length - r.BaseStream.Position, "a count exceeds the remaining data");
        return n;
    }

    private static float[] ReadFloats(BinaryReader r, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = r.ReadSingle();
        }
        return values;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw Inconsistent(what);
        }
    }

    private static InvalidDataException Inconsistent(string what) => new($"The checkpoint is inconsistent: {what}.");

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

    /// <summary>One parameter's name, shape and values.</summary>
    private readonly record struct Tensor(string Name, int[] Shape, float[] Values);
}
