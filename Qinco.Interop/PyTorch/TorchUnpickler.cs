using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using Qinco.Core;
using Razorvine.Pickle;

namespace Qinco.Interop;

/// <summary>
/// Razorvine.Pickle's unpickler with the constructors a PyTorch file needs: storages come from the archive
/// (<see cref="persistentLoad"/>), <c>torch._utils._rebuild_tensor_v2</c> and <c>_rebuild_parameter</c> build a
/// checked <see cref="PyTorchTensor"/>, <c>collections.OrderedDict</c> an ordered table, NumPy's <c>dtype</c> and
/// <c>scalar</c> a number; module classes (<c>torch.nn.modules.*</c>, <c>model_qinco.*</c>) stay Razorvine's
/// <c>ClassDict</c>, a dictionary of their attributes. Every name outside <see cref="Allows"/> is refused by
/// <see cref="PickleScanner"/> before unpickling starts, so nothing else is ever constructed.
/// </summary>
/// <remarks>
/// Razorvine.Pickle keeps its constructors in one process-wide table; this class adds its entries once (in its static
/// constructor) and never changes them afterwards. They are plain data builders, safe for any other user of the
/// library in the process.
/// </remarks>
internal sealed class TorchUnpickler : Unpickler
{
    private static readonly Dictionary<string, PyTorchDType> s_storageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = PyTorchDType.Float32,
        ["DoubleStorage"] = PyTorchDType.Float64,
        ["HalfStorage"] = PyTorchDType.Float16,
        ["BFloat16Storage"] = PyTorchDType.BFloat16,
        ["LongStorage"] = PyTorchDType.Int64,
        ["IntStorage"] = PyTorchDType.Int32,
        ["ShortStorage"] = PyTorchDType.Int16,
        ["CharStorage"] = PyTorchDType.Int8,
        ["ByteStorage"] = PyTorchDType.UInt8,
        ["BoolStorage"] = PyTorchDType.Bool,
    };

    /// <summary>Functions and classes restored by a constructor of ours (module → names).</summary>
    private static readonly Dictionary<string, string[]> s_exact = new(StringComparer.Ordinal)
    {
        ["torch._utils"] = ["_rebuild_tensor_v2", "_rebuild_tensor", "_rebuild_parameter", "_rebuild_parameter_with_state"],
        ["collections"] = ["OrderedDict"],
        ["numpy"] = ["dtype"],
        ["numpy.core.multiarray"] = ["scalar"],
        ["numpy._core.multiarray"] = ["scalar"],
        // Razorvine's own data constructors: a set of items, and bytes (protocol 2 pickles bytes as _codecs.encode(text, 'latin1')).
        ["__builtin__"] = ["set"],
        ["builtins"] = ["set"],
        ["_codecs"] = ["encode"],
    };

    /// <summary>The pickle being read on this thread: OrderedDicts note its position at each insertion (see <see cref="PickleOrderedDict"/>).</summary>
    [ThreadStatic]
    private static MemoryStream? t_input;

    private readonly TorchArchive _archive;

    static TorchUnpickler()
    {
        registerConstructor("torch._utils", "_rebuild_tensor_v2", new RebuildTensor());
        registerConstructor("torch._utils", "_rebuild_tensor", new RebuildTensor());
        registerConstructor("torch._utils", "_rebuild_parameter", new RebuildParameter());
        registerConstructor("torch._utils", "_rebuild_parameter_with_state", new RebuildParameter());
        registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
        registerConstructor("numpy", "dtype", new NumpyDTypeConstructor());
        registerConstructor("numpy.core.multiarray", "scalar", new NumpyScalarConstructor());
        registerConstructor("numpy._core.multiarray", "scalar", new NumpyScalarConstructor());
        foreach ((string storage, PyTorchDType dtype) in s_storageTypes)
        {
            registerConstructor("torch", storage, new StorageType(dtype));
        }
    }

    private TorchUnpickler(TorchArchive archive) => _archive = archive;

    /// <summary>
    /// Whether the pickle may name <paramref name="module"/>.<paramref name="name"/>: the tensor and storage rebuilders,
    /// OrderedDict, set, bytes, NumPy scalars, and module classes of <c>torch.nn.modules</c> or the reference's
    /// <c>model_qinco</c> (restored as plain dictionaries of their attributes).
    /// </summary>
    public static bool Allows(string module, string name) =>
        (s_exact.TryGetValue(module, out string[]? names) && Array.IndexOf(names, name) >= 0)
        || (module == "torch" && s_storageTypes.ContainsKey(name))
        || ((module == "model_qinco" || module.StartsWith("torch.nn.modules.", StringComparison.Ordinal)) && IsIdentifier(name) && IsDottedIdentifier(module));

    /// <summary>Unpickles the archive's <c>data.pkl</c> after <see cref="PickleScanner"/> has accepted it.</summary>
    public static object? Load(TorchArchive archive)
    {
        byte[] pickle = archive.ReadPickle();
        PickleScanner.Check(pickle, archive.Name);
        using var unpickler = new TorchUnpickler(archive);
        // Read from a stream, which Razorvine.Pickle consumes byte by byte, so its position tells which opcode is running.
        using var input = new MemoryStream(pickle, writable: false);
        try
        {
            t_input = input;
            return unpickler.load(input);
        }
        catch (Exception ex) when (ex is not ModelFormatException and not OutOfMemoryException)
        {
            // The opcodes were checked, but their order and stack effects were not: Razorvine.Pickle reports a
            // malformed stack with whatever exception its casts and pops raise. Our constructors' own errors arrive
            // wrapped when BUILD called them.
            for (Exception? e = ex; e is not null; e = e.InnerException)
            {
                if (e is ModelFormatException format)
                {
                    throw format;
                }
            }
            throw archive.Error($"holds a malformed pickle (data.pkl): {ex.GetType().Name}: {ex.Message}", ex);
        }
        finally
        {
            t_input = null;
        }
    }

    /// <summary>The position of the opcode being run in the pickle this thread reads (-1 when none).</summary>
    internal static long Position => t_input?.Position ?? -1;

    /// <summary>Resolves <c>('storage', torch.FloatStorage, key, location, numel)</c> to the archive's record <c>data/{key}</c>.</summary>
    [SuppressMessage("Naming", "CA1725", Justification = "Razorvine's parameter name.")]
    protected override object persistentLoad(object pid)
    {
        if (pid is not object[] { Length: 5 } tuple || tuple[0] is not "storage" || tuple[1] is not StorageType type || tuple[2] is not string key || tuple[3] is not string)
        {
            throw _archive.Error("holds a persistent id that is not ('storage', <storage type>, key, location, size).");
        }
        return _archive.Storage(key, type.DType, ToInt64(tuple[4], "a storage size"));
    }

    private static bool IsIdentifier(string name) =>
        name.Length is > 0 and <= 128 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") < 0;

    private static bool IsDottedIdentifier(string module) => Array.TrueForAll(module.Split('.'), IsIdentifier);

    private static long ToInt64(object? value, string what) => value switch
    {
        int i => i,
        long l => l,
        _ => throw new PickleException($"{what} is not an integer"),
    };

    /// <summary><c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])</c> and the older <c>_rebuild_tensor(storage, offset, size, stride)</c>.</summary>
    private sealed class RebuildTensor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length < 4 || args[0] is not TorchStorage storage || args[2] is not object[] size || args[3] is not object[] stride)
            {
                throw new PickleException("_rebuild_tensor: expected (storage, offset, size tuple, stride tuple, ...)");
            }
            long offset = ToInt64(args[1], "a tensor's storage offset");
            var shape = new int[size.Length];
            var strides = new long[stride.Length];
            for (int i = 0; i < size.Length; i++)
            {
                long dim = ToInt64(size[i], "a tensor size");
                shape[i] = dim is >= 0 and <= int.MaxValue ? (int)dim : -1;
            }
            for (int i = 0; i < stride.Length; i++)
            {
                strides[i] = ToInt64(stride[i], "a tensor stride");
            }
            return new PyTorchTensor(storage, offset, shape, strides);
        }
    }

    /// <summary><c>_rebuild_parameter(data, requires_grad, backward_hooks[, state])</c>: the tensor itself.</summary>
    private sealed class RebuildParameter : IObjectConstructor
    {
        public object construct(object[] args) =>
            args.Length >= 1 && args[0] is PyTorchTensor tensor ? tensor : throw new PickleException("_rebuild_parameter: expected a tensor");
    }

    /// <summary><c>OrderedDict()</c>, or <c>OrderedDict([(key, value), ...])</c>.</summary>
    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            var dict = new PickleOrderedDict();
            if (args.Length == 1 && args[0] is ArrayList items)
            {
                foreach (object? item in items)
                {
                    if (item is not object[] { Length: 2 } pair)
                    {
                        throw new PickleException("OrderedDict: expected (key, value) pairs");
                    }
                    dict.AddInitial(pair[0], pair[1]);
                }
            }
            else if (args.Length != 0)
            {
                throw new PickleException("OrderedDict: expected no arguments or a list of pairs");
            }
            return dict;
        }
    }

    /// <summary>A storage class named in a persistent id; it is a marker, never called.</summary>
    private sealed class StorageType(PyTorchDType dtype) : IObjectConstructor
    {
        public PyTorchDType DType => dtype;

        public object construct(object[] args) => throw new PickleException($"a storage class ({dtype}) cannot be called");
    }

    /// <summary><c>numpy.dtype(code, align, copy)</c> for the little-endian numeric codes a scalar attribute uses.</summary>
    private sealed class NumpyDTypeConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length >= 1 && args[0] is string code && NumpyDType.TryCreate(code, out NumpyDType? dtype)
            ? dtype! : throw new PickleException($"numpy.dtype: unsupported dtype {(args.Length >= 1 ? args[0] : "()")}");
    }

    /// <summary><c>numpy.core.multiarray.scalar(dtype, bytes)</c>: a NumPy scalar (e.g. QINCo1's <c>db_scale = xt.max()</c>) as a double or a long.</summary>
    private sealed class NumpyScalarConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 2 && args[0] is NumpyDType dtype && args[1] is byte[] bytes
            ? dtype.Read(bytes) : throw new PickleException("numpy scalar: expected (dtype, bytes)");
    }
}

/// <summary>
/// A pickled <c>collections.OrderedDict</c>: a <see cref="Hashtable"/> (what Razorvine's SETITEMS fills) that
/// remembers the insertion order. Razorvine.Pickle's SETITEMS inserts a batch of items last first, all while the
/// pickle stands at the same position; so each insertion notes <see cref="TorchUnpickler.Position"/>, and the keys of
/// a run of insertions at one position are put back in the pickle's order.
/// </summary>
[SuppressMessage("Design", "CA1010", Justification = "A Hashtable, because Razorvine.Pickle's SETITEMS casts to it.")]
[SuppressMessage("Usage", "CA2237", Justification = "Never serialized.")]
internal sealed class PickleOrderedDict : Hashtable
{
    private readonly List<(long Position, object Key)> _order = [];
    private long _initial = -2;

    /// <summary>The keys in the pickle's order.</summary>
    public IReadOnlyList<object> OrderedKeys
    {
        get
        {
            var keys = new List<object>(_order.Count);
            for (int start = 0; start < _order.Count;)
            {
                int end = start + 1;
                while (end < _order.Count && _order[end].Position == _order[start].Position)
                {
                    end++;
                }
                for (int i = end - 1; i >= start; i--)
                {
                    keys.Add(_order[i].Key);
                }
                start = end;
            }
            return keys;
        }
    }

    public override object? this[object key]
    {
        get => base[key];
        set
        {
            if (!ContainsKey(key))
            {
                _order.Add((TorchUnpickler.Position, key));
            }
            base[key] = value;
        }
    }

    /// <summary>Adds the items given to the constructor, in their order (each at a position of its own).</summary>
    public void AddInitial(object key, object? value)
    {
        if (!ContainsKey(key))
        {
            _order.Add((_initial--, key));
        }
        base[key] = value;
    }

    /// <summary>Attributes pickled with the dict (a state dict's <c>_metadata</c>); kept, unused.</summary>
    public Hashtable? State { get; private set; }

    /// <summary>Called by Razorvine.Pickle's BUILD (by name, through reflection).</summary>
    [SuppressMessage("Naming", "CA1707", Justification = "The pickle protocol's name, looked up by Razorvine.Pickle.")]
    public void __setstate__(Hashtable state) => State = state;
}

/// <summary>A NumPy dtype of a pickled scalar: little-endian (or byte-order-free) float32/64 or integer.</summary>
internal sealed class NumpyDType
{
    private NumpyDType(char kind, int size)
    {
        Kind = kind;
        Size = size;
    }

    /// <summary>'f' (float), 'i' (signed), 'u' (unsigned) or 'b' (bool).</summary>
    public char Kind { get; }

    public int Size { get; }

    public static bool TryCreate(string code, out NumpyDType? dtype)
    {
        dtype = code switch
        {
            "f4" => new('f', 4),
            "f8" => new('f', 8),
            "i8" => new('i', 8),
            "i4" => new('i', 4),
            "i2" => new('i', 2),
            "i1" => new('i', 1),
            "u1" => new('u', 1),
            "b1" => new('b', 1),
            _ => null,
        };
        return dtype is not null;
    }

    /// <summary>Called by Razorvine.Pickle's BUILD with NumPy's state tuple <c>(version, byteorder, ...)</c>: only little-endian or byte-order-free dtypes are read.</summary>
    [SuppressMessage("Naming", "CA1707", Justification = "The pickle protocol's name, looked up by Razorvine.Pickle.")]
    public void __setstate__(object[] state)
    {
        if (state.Length < 2 || state[1] is not ("<" or "|" or "="))
        {
            throw new PickleException($"numpy.dtype: byte order {(state.Length >= 2 ? state[1] : "?")} is not little-endian");
        }
    }

    /// <summary>The scalar in <paramref name="bytes"/> as a double (floats) or a long (integers, bool).</summary>
    public object Read(byte[] bytes)
    {
        if (bytes.Length != Size)
        {
            throw new PickleException($"numpy scalar: {bytes.Length} bytes for a {Kind}{Size}");
        }
        ReadOnlySpan<byte> b = bytes;
        return (Kind, Size) switch
        {
            ('f', 4) => (double)System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(b),
            ('f', _) => System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(b),
            ('i', 8) => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(b),
            ('i', 4) => (long)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b),
            ('i', 2) => (long)System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(b),
            ('i', _) => (long)(sbyte)b[0],
            _ => (long)b[0],
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"numpy.dtype({Kind}{Size})");
}
