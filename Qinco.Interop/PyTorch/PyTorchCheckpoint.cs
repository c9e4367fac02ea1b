using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Qinco.Core;

namespace Qinco.Interop;

/// <summary>
/// The content of a PyTorch <c>.pt</c> file (the zip format of <c>torch.save</c>, PyTorch 1.6 and later), read in
/// pure managed code: the pickle through Razorvine.Pickle, the tensor storages from the archive. Both what QINCo1 saves
/// (<c>torch.save(model)</c>: a whole module, <see cref="Module"/>) and what QINCo2 saves (a dict checkpoint with the
/// state dict under <c>"model"</c>, ALGORITHM.md §7.2) are read.
/// </summary>
/// <remarks>
/// <para><b>Nothing in the file is executed.</b> A pickle names the classes and functions that rebuild its objects;
/// before unpickling, every name is checked against a fixed list and the file is refused, naming the first other one
/// (e.g. <c>os.system</c>), when it names anything else. The list: the tensor rebuilders
/// <c>torch._utils._rebuild_tensor_v2</c>/<c>_rebuild_tensor</c>/<c>_rebuild_parameter</c>(<c>_with_state</c>), the
/// storage classes <c>torch.{Float,Double,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage</c>,
/// <c>collections.OrderedDict</c>, <c>set</c>, <c>_codecs.encode</c> (bytes), NumPy's <c>dtype</c> and scalar, and
/// module classes of <c>torch.nn.modules.*</c> and <c>model_qinco.*</c>, which become <see cref="PyTorchModule"/>
/// data holders (no class is loaded, no method runs). Text persistent ids, INST/OBJ, copyreg extensions and
/// out-of-band buffers are refused too.</para>
/// <para><b>Sizes are checked before anything is allocated.</b> Every record's declared size against the file's
/// length (and its CRC-32), every opcode's argument against the bytes of the pickle, every storage's element count
/// against its record, and every tensor's offset, sizes and strides against its storage; a view may not have more
/// elements than its storage, so converting tensors never allocates more than the file holds.</para>
/// <para>Any problem — not a zip, a legacy (pre-1.6) or TorchScript file, a truncated or corrupt record, a refused
/// name or opcode, a malformed pickle, a tensor outside its storage — throws <see cref="ModelFormatException"/> whose
/// message starts with the file name.</para>
/// </remarks>
public sealed class PyTorchCheckpoint
{
    private PyTorchCheckpoint(string source, object? root)
    {
        Source = source;
        Root = root;
    }

    /// <summary>The file name (or the name given to <see cref="Load(Stream, string)"/>).</summary>
    public string Source { get; }

    /// <summary>
    /// The unpickled object, as data: <c>null</c> (None), <see cref="bool"/>, <see cref="long"/> (or
    /// <see cref="System.Numerics.BigInteger"/> beyond 64 bits), <see cref="double"/>, <see cref="string"/>,
    /// <c>byte[]</c>, <c>IReadOnlyList&lt;object?&gt;</c> (tuples, lists, sets),
    /// <c>IReadOnlyDictionary&lt;object, object?&gt;</c> (dicts and OrderedDicts, in their order; keys are such values
    /// too), <see cref="PyTorchTensor"/> and <see cref="PyTorchModule"/>. NumPy scalars read as double or long.
    /// </summary>
    public object? Root { get; }

    /// <summary>The module when the file holds a whole pickled module (<c>torch.save(model)</c>), else null.</summary>
    public PyTorchModule? Module => Root as PyTorchModule;

    /// <summary>Reads a <c>.pt</c> file.</summary>
    /// <exception cref="ModelFormatException">The file is not a readable PyTorch file, or names a class or function outside the list (see remarks); the message names the file.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static PyTorchCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using (FileStream stream = File.OpenRead(path))
        {
            return Load(stream, path);
        }
    }

    /// <summary>Reads a <c>.pt</c> file from a seekable stream (from its current position; the stream is left open).</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="name">The name messages give the file.</param>
    /// <exception cref="ModelFormatException">The data is not a readable PyTorch file (see remarks).</exception>
    /// <exception cref="ArgumentException">The stream cannot read or seek.</exception>
    public static PyTorchCheckpoint Load(Stream stream, string name = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException($"Reading a PyTorch file needs a readable, seekable stream ({name} is not).", nameof(stream));
        }
        try
        {
            using TorchArchive archive = TorchArchive.Open(stream, name);
            object? root = TorchUnpickler.Load(archive);
            return new PyTorchCheckpoint(name, new PickleData(name).Convert(root));
        }
        catch (InvalidDataException ex)
        {
            // The zip reader's view of a corrupt central directory or local header, met while listing or opening records.
            throw new ModelFormatException($"{name}: is not a valid zip archive: {ex.Message}", ex);
        }
        catch (EndOfStreamException ex)
        {
            throw new ModelFormatException($"{name}: is truncated: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The state dict the file holds: the module's (<see cref="PyTorchModule.StateDict"/>), the root dict when all its
    /// values are tensors (<c>torch.save(model.state_dict())</c>), or the one under <c>"model"</c>, <c>"state_dict"</c>
    /// or <c>"model_state_dict"</c> of a dict checkpoint (QINCo2's, a training checkpoint's).
    /// </summary>
    /// <exception cref="ModelFormatException">The file holds none of these.</exception>
    public IReadOnlyDictionary<string, PyTorchTensor> GetStateDict()
    {
        if (Module is PyTorchModule module)
        {
            return module.StateDict();
        }
        if (Root is IReadOnlyDictionary<object, object?> dict)
        {
            if (AsStateDict(dict) is { } direct)
            {
                return direct;
            }
            foreach (string key in new[] { "model", "state_dict", "model_state_dict" })
            {
                if (dict.TryGetValue(key, out object? inner) && inner is IReadOnlyDictionary<object, object?> innerDict && AsStateDict(innerDict) is { } found)
                {
                    return found;
                }
            }
        }
        throw new ModelFormatException($"{Source}: holds {Describe(Root)}, not a module, a state dict or a checkpoint dict with one under 'model', 'state_dict' or 'model_state_dict'.");
    }

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        PyTorchModule m => $"a {m.ClassName} module",
        IReadOnlyDictionary<object, object?> d => $"a dict with the keys {string.Join(", ", d.Keys.Take(8).Select(k => $"'{k}'"))}{(d.Count > 8 ? ", ..." : string.Empty)}",
        PyTorchTensor t => $"a {t}",
        _ => $"a {value.GetType().Name}",
    };

    private static IReadOnlyDictionary<string, PyTorchTensor>? AsStateDict(IReadOnlyDictionary<object, object?> dict)
    {
        if (dict.Count == 0 || !dict.All(item => item.Key is string && item.Value is PyTorchTensor))
        {
            return null;
        }
        var result = new OrderedDictionary<string, PyTorchTensor>();
        foreach (KeyValuePair<object, object?> item in dict)
        {
            result[(string)item.Key] = (PyTorchTensor)item.Value!;
        }
        return result;
    }
}
