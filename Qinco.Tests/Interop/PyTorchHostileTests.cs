using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Interop;
using static Qinco.Tests.Interop.TorchFileBuilder;

namespace Qinco.Tests.Interop;

/// <summary>
/// Corrupt, truncated and hostile PyTorch files throw <see cref="ModelFormatException"/> naming the file: pickles
/// that name functions or unknown classes, sizes beyond the archive, views beyond their storage; and a fuzz test over
/// mutated fixtures sees no other exception and no allocation out of proportion to the file.
/// </summary>
public sealed class PyTorchHostileTests
{
    private static ModelFormatException Refused(byte[] file, string name = "hostile.pt")
    {
        var ex = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Load(new MemoryStream(file), name))!;
        Assert.That(ex.Message, Does.StartWith(name + ":"));
        return ex;
    }

    private static byte[] WithPickle(byte[] pickle) => Archive(pickle);

    [Test]
    public void Pickles_that_call_functions_or_name_other_classes_are_refused_by_name()
    {
        byte[] system = new Pickle().Op(0x80).Op(2).Global("os", "system").Str("id").Op(0x85).Op('R').Op('.').ToArray();
        byte[] eval = new Pickle().Op(0x80).Op(4).Op(0x8c).Op(8).Raw("builtins"u8.ToArray()).Op(0x94).Op(0x8c).Op(4).Raw("eval"u8.ToArray()).Op(0x94)
            .Op(0x93).Str("1").Op(0x85).Op('R').Op('.').ToArray();
        byte[] memoised = new Pickle().Op(0x80).Op(4).Op(0x8c).Op(5).Raw("posix"u8.ToArray()).Op(0x94).Op(0x8c).Op(6).Raw("system"u8.ToArray()).Op(0x94)
            .Op('0').Op('0').Op('h').Op(0).Op('h').Op(1).Op(0x93).Op('.').ToArray();
        byte[] computed = new Pickle().Op(0x80).Op(4).Str("builtins").Str("eval").Op('2').Op(0x93).Op('.').ToArray();
        byte[] inst = new Pickle().Op('(').Op('i').Raw("os\nsystem\n"u8.ToArray()).Op('.').ToArray();
        byte[] getattr = new Pickle().Op(0x80).Op(2).Global("builtins", "getattr").Op('.').ToArray();
        byte[] ext = new Pickle().Op(0x80).Op(2).Op(0x82).Op(1).Op('.').ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(Refused(WithPickle(system)).Message, Does.Contain("'os.system'").And.Contain("refused"));
            Assert.That(Refused(WithPickle(eval)).Message, Does.Contain("'builtins.eval'"));
            Assert.That(Refused(WithPickle(memoised)).Message, Does.Contain("'posix.system'"));
            Assert.That(Refused(WithPickle(computed)).Message, Does.Contain("STACK_GLOBAL"));
            Assert.That(Refused(WithPickle(inst)).Message, Does.Contain("INST/OBJ"));
            Assert.That(Refused(WithPickle(getattr)).Message, Does.Contain("'builtins.getattr'"));
            Assert.That(Refused(WithPickle(ext)).Message, Does.Contain("extension code"));
        });
    }

    [Test]
    public void Allowed_classes_stay_data_and_cannot_be_called()
    {
        // A module class is restored as a dictionary of attributes; calling it with arguments is not data.
        byte[] called = new Pickle().Op(0x80).Op(2).Global("torch.nn.modules.linear", "Linear").Str("x").Op(0x85).Op('R').Op('.').ToArray();
        byte[] storage = new Pickle().Op(0x80).Op(2).Global("torch", "FloatStorage").Op(')').Op('R').Op('.').ToArray();
        byte[] classValue = new Pickle().Op(0x80).Op(2).Global("collections", "OrderedDict").Op('.').ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(Refused(WithPickle(called)).Message, Does.Contain("malformed pickle"));
            Assert.That(Refused(WithPickle(storage)).Message, Does.Contain("malformed pickle"));
            Assert.That(Refused(WithPickle(classValue)).Message, Does.Contain("not data"));
        });
    }

    [Test]
    public void Tensor_geometry_is_checked_against_the_storage()
    {
        byte[] sixteen = new byte[16];
        Assert.Multiple(() =>
        {
            var good = PyTorchCheckpoint.Load(new MemoryStream(Archive(TensorDict("0", 4, 1, [3], [1]), ("0", sixteen))), "good.pt");
            Assert.That(good.GetStateDict()["w"].Shape, Is.EqualTo(new[] { 3 }));
            Assert.That(Refused(Archive(TensorDict("0", 1000, 0, [4], [1]), ("0", sixteen))).Message, Does.Contain("as 1000 Float32 elements").And.Contain("16 bytes"));
            Assert.That(Refused(Archive(TensorDict("0", 4, 0, [1_000_000], [1]), ("0", sixteen))).Message, Does.Contain("reaches past the end"));
            Assert.That(Refused(Archive(TensorDict("0", 4, 2, [2, 2], [2, 1]), ("0", sixteen))).Message, Does.Contain("reaches past the end"));
            Assert.That(Refused(Archive(TensorDict("0", 4, 0, [1_000_000_000], [0]), ("0", sixteen))).Message, Does.Contain("stride-0"));
            Assert.That(Refused(Archive(TensorDict("0", 4, 0, [int.MaxValue, int.MaxValue, int.MaxValue], [1, 1, 1]), ("0", sixteen))).Message, Does.Contain("reaches past the end"));
            Assert.That(Refused(Archive(TensorDict("0", 4, 0, [-4], [1]), ("0", sixteen))).Message, Does.Contain("negative"));
            Assert.That(Refused(Archive(TensorDict("0", 4, 7, [], []), ("0", sixteen))).Message, Does.Contain("reaches past the end"));
            Assert.That(Refused(Archive(TensorDict("../0", 4, 0, [4], [1]), ("0", sixteen))).Message, Does.Contain("not a record key"));
            Assert.That(Refused(Archive(TensorDict("1", 4, 0, [4], [1]), ("0", sixteen))).Message, Does.Contain("lacks the record 't/data/1'"));
        });
    }

    [Test]
    public void Sizes_beyond_the_bytes_present_are_refused_before_allocating()
    {
        byte[] bytes8 = new Pickle().Op(0x80).Op(4).Op(0x8e).Raw(BitConverter.GetBytes(1L << 40)).Op('.').ToArray();
        byte[] unicode = new Pickle().Op(0x80).Op(2).Op('X').Raw(BitConverter.GetBytes(int.MaxValue)).Op('.').ToArray();
        byte[] frame = new Pickle().Op(0x80).Op(4).Op(0x95).Raw(BitConverter.GetBytes(long.MaxValue)).Op('.').ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Multiple(() =>
        {
            Assert.That(Refused(WithPickle(bytes8)).Message, Does.Contain("needs 1099511627776 argument bytes"));
            Assert.That(Refused(WithPickle(unicode)).Message, Does.Contain("needs 2147483647 argument bytes"));
            Assert.That(Refused(WithPickle(frame)).Message, Does.Contain("frame"));
        });
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
    }

    [Test]
    public void Deep_or_cyclic_nesting_is_refused_without_exhausting_the_stack()
    {
        var deep = new Pickle().Op(0x80).Op(2);
        for (int i = 0; i < 20_000; i++)
        {
            deep.Op(']');
        }
        for (int i = 1; i < 20_000; i++)
        {
            deep.Op('a');
        }
        byte[] cycle = new Pickle().Op(0x80).Op(2).Op(']').Op('q').Op(0).Op('h').Op(0).Op('a').Op('.').ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(Refused(WithPickle(deep.Op('.').ToArray())).Message, Does.Contain("more than 100 levels"));
            Assert.That(Refused(WithPickle(cycle)).Message, Does.Contain("cycle"));
        });
    }

    [Test]
    public void Files_that_are_not_pytorch_zip_archives_are_named()
    {
        byte[] qinco1 = File.ReadAllBytes(PyTorchFixtures.PathOf("qinco1.pt"));
        List<(string Name, byte[] Data)> records = Records(qinco1);
        int storage = records.FindIndex(r => r.Name == "qinco1/data/0");
        byte[] crc = (byte[])qinco1.Clone();
        int at = IndexOf(crc, records[storage].Data);
        crc[at] ^= 0x01;
        Assert.Multiple(() =>
        {
            Assert.That(Refused([]).Message, Does.Contain("is empty"));
            Assert.That(Refused("hello world"u8.ToArray()).Message, Does.Contain("zip signature"));
            Assert.That(Refused([0x80, 0x02, 0x8a, 0x0a]).Message, Does.Contain("legacy"));
            Assert.That(Refused(qinco1[..(qinco1.Length / 2)]).Message, Does.Contain("zip"));
            Assert.That(Refused(crc).Message, Does.Contain("CRC-32").And.Contain("qinco1/data/0"));
            Assert.That(Refused(Zip([("x/data.pkl", "\x80\x02N."u8.ToArray()), ("x/constants.pkl", [])])).Message, Does.Contain("TorchScript"));
            Assert.That(Refused(Zip([("x/other", [])])).Message, Does.Contain("data.pkl"));
            Assert.That(Refused(Zip(records.Select(r => r.Name == "qinco1/data.pkl" ? (r.Name, r.Data[..^1]) : r))).Message, Does.Contain("without a STOP"));
            Assert.That(Refused(Zip(records.Where(r => r.Name != "qinco1/data/3"))).Message, Does.Contain("lacks the record 'qinco1/data/3'"));
        });
        string path = Path.Combine(Path.GetTempPath(), $"qinco-hostile-{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, crc);
        try
        {
            Assert.That(() => PyTorchCheckpoint.Load(path), Throws.TypeOf<ModelFormatException>().With.Message.StartsWith(path + ":"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// 480 mutations (fixed seed) of the fixtures: bit flips, truncations, appended bytes, zeroed ranges anywhere in
    /// the file, and edits of the pickle or of a storage record with the zip's CRCs recomputed. Each either loads (and
    /// then imports or is refused as a model) or throws <see cref="ModelFormatException"/> naming the file; reading
    /// allocates at most 64 times the file's size plus 1 MiB. QINCO_FUZZ_SEED and QINCO_FUZZ_MUTATIONS change the seed
    /// and the count for longer runs (3 × 8000 mutations passed when this test was written).
    /// </summary>
    [Test]
    public void Fuzzed_fixtures_throw_only_format_exceptions_and_allocate_in_proportion()
    {
        string[] fixtures = ["qinco1.pt", "ivf_qinco1.pt", "qinco2.pt", "dtypes.pt"];
        var random = new Random(Setting("QINCO_FUZZ_SEED", 15));
        int mutations = Setting("QINCO_FUZZ_MUTATIONS", 480);
        var outcomes = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        foreach (string fixture in fixtures)
        {
            Read(File.ReadAllBytes(PyTorchFixtures.PathOf(fixture)), "warm-up"); // JIT and static constructors outside the measurement
        }
        (long Bytes, int Length) worst = (0, 0);
        for (int i = 0; i < mutations; i++)
        {
            string fixture = fixtures[i % fixtures.Length];
            byte[] original = File.ReadAllBytes(PyTorchFixtures.PathOf(fixture));
            (byte[] mutated, string mutation) = Mutate(original, random);
            string name = $"fuzz-{i}-{fixture}";
            string outcome;
            ReferenceCheckpoint? reference = null;
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                reference = Read(mutated, name);
                outcome = "loaded";
            }
            catch (ModelFormatException ex)
            {
                Assert.That(ex.Message, Does.StartWith(name + ":"), $"{name} ({mutation})");
                outcome = "refused";
            }
            catch (Exception ex)
            {
                Assert.Fail($"{name} ({mutation}) threw {ex.GetType().Name}: {ex}");
                throw;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (reference is not null)
            {
                try
                {
                    Quantizer.FromReference(reference, maxDegreeOfParallelism: 1);
                }
                catch (ModelFormatException ex)
                {
                    Assert.That(ex.Message, Does.StartWith(name + ":"), $"{name} ({mutation})");
                    outcome = "refused as a model";
                }
            }
            if (allocated - (16L * mutated.Length) > worst.Bytes - (16L * worst.Length))
            {
                worst = (allocated, mutated.Length);
            }
            Assert.That(allocated, Is.LessThanOrEqualTo((64L * mutated.Length) + (1 << 20)), $"{name} ({mutation}) allocated {allocated} bytes for a file of {mutated.Length}");
            string key = $"{mutation.Split(' ')[0]} {outcome}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        TestContext.Out.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s; most allocated beyond 16 x the file: {worst.Bytes} bytes for a file of {worst.Length}; " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        Assert.That(outcomes.Keys.Count(k => k.EndsWith("refused", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(5), "every kind of mutation should be refused sometimes");
    }

    /// <summary>Reads the file and, when it holds a model, its reference checkpoint; else converts its state dict's tensors.</summary>
    private static ReferenceCheckpoint? Read(byte[] file, string name)
    {
        PyTorchCheckpoint checkpoint = PyTorchCheckpoint.Load(new MemoryStream(file, writable: false), name);
        if (checkpoint.Module is not null)
        {
            return checkpoint.ToReferenceCheckpoint();
        }
        foreach (PyTorchTensor tensor in checkpoint.GetStateDict().Values)
        {
            tensor.ToSingle();
        }
        return null;
    }

    private static (byte[] File, string Mutation) Mutate(byte[] original, Random random)
    {
        byte[] file = (byte[])original.Clone();
        switch (random.Next(7))
        {
            case 0:
                int flips = random.Next(1, 5);
                for (int k = 0; k < flips; k++)
                {
                    file[random.Next(file.Length)] ^= (byte)(1 << random.Next(8));
                }
                return (file, $"flip {flips} bits");
            case 1:
                int length = random.Next(file.Length);
                return (file[..length], $"truncate to {length}");
            case 2:
                byte[] extra = new byte[random.Next(1, 65)];
                random.NextBytes(extra);
                return ([.. file, .. extra], $"append {extra.Length} bytes");
            case 3:
                int start = random.Next(file.Length), count = Math.Min(random.Next(1, 257), file.Length - start);
                Array.Clear(file, start, count);
                return (file, $"zero [{start}, {start + count})");
            case 4:
            case 5:
                List<(string Name, byte[] Data)> records = Records(original);
                int index = records.FindIndex(r => r.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
                records[index] = (records[index].Name, MutatePickle(records[index].Data, random, out string edit));
                return (Zip(records), $"pickle {edit}");
            default:
                List<(string Name, byte[] Data)> all = Records(original);
                int s = random.Next(all.Count);
                byte[] data = all[s].Data;
                all[s] = (all[s].Name, random.Next(3) switch
                {
                    0 => data[..random.Next(data.Length + 1)],
                    1 => [.. data, .. new byte[random.Next(1, 9)]],
                    _ => data.Select(b => (byte)(b ^ random.Next(256))).ToArray(),
                });
                return (Zip(all), $"record {all[s].Name} resized or rewritten");
        }
    }

    /// <summary>One to three edits of the pickle: a byte replaced (often by an opcode), inserted or deleted, or a slice duplicated.</summary>
    private static byte[] MutatePickle(byte[] pickle, Random random, out string edit)
    {
        const string Opcodes = "(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])G\x80\x81\x82\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98";
        var bytes = new List<byte>(pickle);
        var edits = new List<string>();
        int n = random.Next(1, 4);
        for (int k = 0; k < n && bytes.Count > 1; k++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = random.Next(2) == 0 ? (byte)Opcodes[random.Next(Opcodes.Length)] : (byte)random.Next(256);
                    edits.Add($"set@{at}");
                    break;
                case 1:
                    bytes.Insert(at, (byte)Opcodes[random.Next(Opcodes.Length)]);
                    edits.Add($"insert@{at}");
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    edits.Add($"delete@{at}");
                    break;
                default:
                    int count = Math.Min(random.Next(1, 33), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, count));
                    edits.Add($"duplicate@{at}+{count}");
                    break;
            }
        }
        edit = string.Join(",", edits);
        return [.. bytes];
    }

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : fallback;

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
