using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Quantizers;

/// <summary>
/// The contract every <see cref="IQuantizer"/> must honour. Each implementation gets a concrete subclass;
/// <see cref="ContractCoverageTests"/> fails when one is missing.
/// </summary>
public abstract class QuantizerContractTests
{
    protected const int Dimension = 16;

    private VectorSet _train = null!;
    private VectorSet _test = null!;
    private IQuantizer _trained = null!;

    /// <summary>The quantizer kind this fixture covers.</summary>
    protected abstract QuantizerKind Kind { get; }

    /// <summary>An untrained quantizer of <see cref="Dimension"/> with <paramref name="steps"/> steps of <paramref name="bits"/> bits and a fixed seed.</summary>
    protected abstract IQuantizer Create(int steps, int bits, int seed);

    /// <summary>An upper bound on decode(encode(x)) MSE relative to the data's total variance for the trained fixture.</summary>
    protected virtual double MaxRelativeError => 0.5;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _train = SyntheticData.Generate(2000, Dimension, seed: 1, latentDimension: 8);
        _test = SyntheticData.Generate(300, Dimension, seed: 2, latentDimension: 8);
        _trained = Create(steps: 4, bits: 4, seed: 7);
        _trained.Fit(_train);
    }

    [Test]
    public void Shapes_MatchTheSettings()
    {
        Assert.That(_trained.Kind, Is.EqualTo(Kind));
        Assert.That(_trained.Dimension, Is.EqualTo(Dimension));
        Assert.That(_trained.Steps, Is.EqualTo(4));
        Assert.That(_trained.CodebookBits, Is.EqualTo(4));
        Assert.That(_trained.CodeSize, Is.EqualTo((_trained.Layout.ListBits + (4 * 4) + 7) / 8), "the list number (IVF) and 4 indices of 4 bits");
        Assert.That(_trained.IsTrained, Is.True);
        byte[] codes = _trained.Encode(_test).Data;
        Assert.That(codes, Has.Length.EqualTo(_test.Count * _trained.CodeSize));
        VectorSet decoded = _trained.Decode(codes);
        Assert.That(decoded.Count, Is.EqualTo(_test.Count));
        Assert.That(decoded.Dimension, Is.EqualTo(Dimension));
    }

    [Test]
    public void Fit_IsDeterministicForASeed()
    {
        IQuantizer again = Create(steps: 4, bits: 4, seed: 7);
        again.Fit(_train);
        Assert.That(again.Encode(_test).Data, Is.EqualTo(_trained.Encode(_test).Data));
        Assert.That(again.Decode(again.Encode(_test)).Data, Is.EqualTo(_trained.Decode(_trained.Encode(_test)).Data));
    }

    [Test]
    public void ReconstructionError_IsWellBelowTheDataVariance()
    {
        double variance = TotalVariance(_test);
        double mse = Mse(_test, _trained.Decode(_trained.Encode(_test)));
        Assert.That(mse, Is.LessThan(MaxRelativeError * variance), $"MSE {mse} vs variance {variance}");
    }

    [Test]
    public void PrefixDecoding_ImprovesWithEveryStep_AndTheFullPrefixIsTheFullDecode()
    {
        byte[] codes = _trained.Encode(_test).Data;
        double previous = double.PositiveInfinity;
        for (int m = 1; m <= _trained.Steps; m++)
        {
            double mse = Mse(_test, _trained.Decode(codes, m));
            Assert.That(mse, Is.LessThan(previous * 1.0001), $"prefix {m}");
            previous = mse;
        }
        Assert.That(_trained.Decode(codes, _trained.Steps).Data, Is.EqualTo(_trained.Decode(codes).Data));
        Assert.Throws<ArgumentOutOfRangeException>(() => _trained.Decode(codes, _trained.Steps + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _trained.Decode(codes, -1));
        if (_trained.Layout.ListBits == 0)
        {
            Assert.That(_trained.Decode(codes, 0).Data, Is.All.EqualTo(0f), "before any step the reconstruction is 0");
        }
    }

    [Test]
    public void ConcurrentEncode_GivesTheSequentialResult()
    {
        byte[] expected = _trained.Encode(_test).Data;
        var results = new byte[8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => results[i] = _trained.Encode(_test).Data);
        foreach (byte[] result in results)
        {
            Assert.That(result, Is.EqualTo(expected));
        }
    }

    [Test]
    public void SaveLoad_RoundTripIsBitExact()
    {
        using var stream = new MemoryStream();
        _trained.Save(stream);
        byte[] saved = stream.ToArray();
        IQuantizer loaded = Quantizer.Load(new MemoryStream(saved));
        Assert.That(loaded.Kind, Is.EqualTo(Kind));
        Assert.That(loaded.Encode(_test).Data, Is.EqualTo(_trained.Encode(_test).Data));
        Assert.That(loaded.Decode(_trained.Encode(_test)).Data, Is.EqualTo(_trained.Decode(_trained.Encode(_test)).Data));
        using var again = new MemoryStream();
        loaded.Save(again);
        Assert.That(again.ToArray(), Is.EqualTo(saved));
    }

    [Test]
    public void SaveToPath_IsAtomicAndLoadable()
    {
        string dir = Directory.CreateTempSubdirectory("qinco-model-").FullName;
        try
        {
            string path = Path.Combine(dir, "model.qinco");
            _trained.Save(path);
            _trained.Save(path); // overwrite in place
            Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(1), "no temporary file is left behind");
            Assert.That(Quantizer.Load(path).Encode(_test).Data, Is.EqualTo(_trained.Encode(_test).Data));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Load_RejectsTruncatedCorruptAndForeignFiles()
    {
        using var stream = new MemoryStream();
        _trained.Save(stream);
        byte[] saved = stream.ToArray();

        var truncated = Assert.Throws<ModelFormatException>(() => Quantizer.Load(new MemoryStream(saved[..(saved.Length - 5)])));
        Assert.That(truncated!.Message, Does.Contain("truncated"));
        Assert.Throws<ModelFormatException>(() => Quantizer.Load(new MemoryStream(saved[..10])));

        byte[] flipped = (byte[])saved.Clone();
        flipped[saved.Length / 2] ^= 0x10;
        var corrupt = Assert.Throws<ModelFormatException>(() => Quantizer.Load(new MemoryStream(flipped)));
        Assert.That(corrupt!.Message, Does.Contain("checksum"));

        var foreign = Assert.Throws<ModelFormatException>(() => Quantizer.Load(new MemoryStream("not a model at all"u8.ToArray())));
        Assert.That(foreign!.Message, Does.Contain("signature"));

        byte[] newer = (byte[])saved.Clone();
        newer[10] = 99; // minimum reader version
        var future = Assert.Throws<ModelFormatException>(() => Quantizer.Load(new MemoryStream(newer)));
        Assert.That(future!.Message, Does.Contain("newer version"));
    }

    [Test]
    public void Encode_RejectsWrongDimensionAndNonFiniteValues()
    {
        var codes = new byte[_trained.CodeSize * 2];
        Assert.Throws<ArgumentException>(() => _trained.Encode(new float[Dimension + 1], codes));
        var withNaN = _test.Slice(0, 2);
        withNaN[1][3] = float.NaN;
        var ex = Assert.Throws<ArgumentException>(() => _trained.Encode(withNaN.Data, codes));
        Assert.That(ex!.Message, Does.Contain("Vector 1, component 3"));
        var withInf = _test.Slice(0, 2);
        withInf[0][0] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => _trained.Encode(withInf.Data, codes));
        Assert.Throws<ArgumentException>(() => _trained.Encode(_test.Slice(0, 2).Data, new byte[_trained.CodeSize]), "destination too short");
        Assert.Throws<ArgumentException>(() => _trained.Encode(new VectorSet(3, Dimension + 1)));
    }

    [Test]
    public void Encode_OfNoVectorsIsEmpty()
    {
        Assert.That(_trained.Encode(new VectorSet(0, Dimension)).Data, Is.Empty);
        Assert.That(_trained.Decode(ReadOnlySpan<byte>.Empty).Count, Is.Zero);
    }

    [Test]
    public void Decode_RejectsPartialCodesAndPaddingBitsSet()
    {
        IQuantizer odd = Create(steps: 3, bits: 3, seed: 7); // 9 bits -> 2 bytes, 7 padding bits
        odd.Fit(_train);
        byte[] codes = odd.Encode(_test.Slice(0, 1)).Data;
        Assert.That(codes, Has.Length.EqualTo(2));
        codes[1] |= 0x80;
        var ex = Assert.Throws<ArgumentException>(() => odd.Decode(codes));
        Assert.That(ex!.Message, Does.Contain("padding"));
        Assert.Throws<ArgumentException>(() => _trained.Decode(new byte[_trained.CodeSize + 1]));
    }

    [Test]
    public void Fit_RejectsBadTrainingSets()
    {
        Assert.Throws<ArgumentException>(() => Create(4, 4, 1).Fit(new VectorSet(0, Dimension)), "empty");
        Assert.Throws<ArgumentException>(() => Create(4, 4, 1).Fit(new VectorSet(100, Dimension + 2)), "dimension");
        var tooFew = Assert.Throws<ArgumentException>(() => Create(2, 8, 1).Fit(_train.Slice(0, 100)));
        Assert.That(tooFew!.Message, Does.Contain("256"));
        var nan = _train.Slice(0, 500);
        nan[42][0] = float.NaN;
        Assert.Throws<ArgumentException>(() => Create(4, 4, 1).Fit(nan));
    }

    [Test]
    public void Untrained_EncodeAndSaveThrow()
    {
        IQuantizer fresh = Create(4, 4, 1);
        Assert.That(fresh.IsTrained, Is.False);
        Assert.Throws<InvalidOperationException>(() => fresh.Encode(_test.Slice(0, 1)));
        Assert.Throws<InvalidOperationException>(() => fresh.Save(new MemoryStream()));
    }

    protected static double Mse(VectorSet expected, VectorSet actual)
    {
        double sum = 0;
        for (int i = 0; i < expected.Data.Length; i++)
        {
            double diff = expected.Data[i] - actual.Data[i];
            sum += diff * diff;
        }
        return sum / expected.Count;
    }

    protected static double TotalVariance(VectorSet set)
    {
        double total = 0;
        for (int j = 0; j < set.Dimension; j++)
        {
            double mean = 0;
            for (int i = 0; i < set.Count; i++)
            {
                mean += set[i][j];
            }
            mean /= set.Count;
            for (int i = 0; i < set.Count; i++)
            {
                double diff = set[i][j] - mean;
                total += diff * diff;
            }
        }
        return total / set.Count;
    }
}

/// <summary>Every quantizer kind has a concrete contract fixture.</summary>
public sealed class ContractCoverageTests
{
    [Test]
    public void EveryImplementedKindHasAContractFixture()
    {
        var covered = typeof(QuantizerContractTests).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(QuantizerContractTests)))
            .Select(t => (QuantizerContractTests)Activator.CreateInstance(t)!)
            .Select(f => (QuantizerKind)typeof(QuantizerContractTests).GetProperty("Kind", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(f)!)
            .ToHashSet();
        var implemented = typeof(IQuantizer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(IQuantizer).IsAssignableFrom(t))
            .ToList();
        Assert.That(implemented, Is.Not.Empty);
        Assert.That(covered.Count, Is.GreaterThanOrEqualTo(implemented.Count), "an IQuantizer implementation has no contract fixture");
    }
}
