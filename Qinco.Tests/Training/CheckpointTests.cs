using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Hashing;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class CheckpointTests
{
    private static byte[] SavedCheckpoint()
    {
        var model = new LinearRegressionModel(rows: 200, dimension: 4, seed: 1);
        TrainingResult result = new Trainer(model, new TrainingOptions { BatchSize = 50, MaxEpochs = 2, LearningRate = 0.01 }).Train();
        using var stream = new MemoryStream();
        result.Checkpoint.Save(stream);
        return stream.ToArray();
    }

    [Test]
    public void SaveLoad_RoundTripIsByteIdentical()
    {
        byte[] bytes = SavedCheckpoint();
        TrainingCheckpoint loaded = TrainingCheckpoint.Load(new MemoryStream(bytes));
        Assert.That(loaded.EpochsCompleted, Is.EqualTo(2));
        Assert.That(loaded.NextEpoch, Is.EqualTo(2));
        Assert.That(loaded.ShuffleSeed, Is.EqualTo(123));
        Assert.That(loaded.ParameterNames, Is.EqualTo(new[] { "linear.weight", "linear.bias" }));
        using var again = new MemoryStream();
        loaded.Save(again);
        Assert.That(again.ToArray(), Is.EqualTo(bytes));
        Assert.That(bytes.AsSpan(0, 8).ToArray(), Is.EqualTo("QNCTRCK1"u8.ToArray()));
    }

    [Test]
    public void FlippedByte_IsReportedAsCorrupt()
    {
        byte[] bytes = SavedCheckpoint();
        bytes[bytes.Length / 2] ^= 0x10;
        var ex = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(bytes)));
        Assert.That(ex!.Message, Does.Contain("CRC-32"));
    }

    [TestCase(0)]
    [TestCase(7)]
    [TestCase(20)]
    [TestCase(100)]
    public void Truncated_IsInvalidData(int keep)
    {
        byte[] bytes = SavedCheckpoint();
        int length = keep == 100 ? bytes.Length - 1 : keep;
        Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(bytes[..length])));
    }

    [Test]
    public void BadMagic_And_NewerVersion_AreInvalidData()
    {
        byte[] bytes = SavedCheckpoint();
        byte[] badMagic = (byte[])bytes.Clone();
        badMagic[0] = (byte)'X';
        Assert.That(Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(badMagic)))!.Message, Does.Contain("magic"));
        byte[] newer = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(newer.AsSpan(12), 2);
        Assert.That(Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(newer)))!.Message, Does.Contain("newer version"));
    }

    [Test]
    public void ValidChecksumButInconsistentCount_IsInvalidData()
    {
        byte[] bytes = SavedCheckpoint();
        // Schedule state count lives at offset 8+8+12+9+8+8+8+4+8+4+8+1+8+1 = 95; make it huge and re-seal the CRC.
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(95), int.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)));
        var ex = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(bytes)));
        Assert.That(ex!.Message, Does.Contain("inconsistent"));
    }
}
