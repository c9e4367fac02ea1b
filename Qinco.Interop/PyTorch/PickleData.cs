using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;
using Qinco.Core;
using Razorvine.Pickle.Objects;

namespace Qinco.Interop;

/// <summary>
/// Turns what Razorvine.Pickle built into the reader's public data (<see cref="PyTorchCheckpoint.Root"/>): numbers,
/// strings, lists, dictionaries, tensors and modules. Nesting is limited to <see cref="MaxDepth"/> levels (which also
/// stops cycles), objects shared by several parents are converted once, and no module is a child twice, so the work is
/// bounded by the pickle's size.
/// </summary>
internal sealed class PickleData(string source)
{
    /// <summary>The deepest nesting of containers and modules read.</summary>
    public const int MaxDepth = 100;

    /// <summary>Keys of a module's <c>__dict__</c> that are PyTorch's bookkeeping, not attributes.</summary>
    private static readonly HashSet<string> s_moduleInternals = new(StringComparer.Ordinal)
    {
        "__class__", "training", "_parameters", "_buffers", "_non_persistent_buffers_set", "_modules",
    };

    private readonly Dictionary<object, object?> _converted = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<PyTorchModule> _children = new(ReferenceEqualityComparer.Instance);

    public object? Convert(object? value, int depth = 0)
    {
        if (value is null or bool or string or double or long or byte[] or BigInteger or PyTorchTensor)
        {
            return value;
        }
        if (value is int i)
        {
            return (long)i;
        }
        if (depth >= MaxDepth)
        {
            throw Error($"nests containers or modules more than {MaxDepth} levels deep (or in a cycle).");
        }
        if (_converted.TryGetValue(value, out object? done))
        {
            return done;
        }
        object? result = value switch
        {
            ClassDict module => Module(module, depth),
            PickleOrderedDict ordered => Dictionary(ordered.OrderedKeys, ordered, depth),
            Hashtable dict => Dictionary(dict.Keys.Cast<object>().OrderBy(k => System.Convert.ToString(k, CultureInfo.InvariantCulture), StringComparer.Ordinal), dict, depth),
            object[] tuple => tuple.Select(item => Convert(item, depth + 1)).ToArray(),
            ArrayList list => list.Cast<object?>().Select(item => Convert(item, depth + 1)).ToList(),
            HashSet<object> set => set.Select(item => Convert(item, depth + 1)).ToList(),
            _ => throw Error($"holds a {Describe(value)}, which is not data this reader represents."),
        };
        _converted[value] = result;
        return result;
    }

    private OrderedDictionary<object, object?> Dictionary(IEnumerable<object> keys, Hashtable dict, int depth)
    {
        var result = new OrderedDictionary<object, object?>();
        foreach (object key in keys)
        {
            object converted = Convert(key, depth + 1) ?? throw Error("holds a dictionary with a None key.");
            if (converted is IList)
            {
                throw Error("holds a dictionary keyed by tuples, which this reader does not represent.");
            }
            result[converted] = Convert(dict[key], depth + 1);
        }
        return result;
    }

    private PyTorchModule Module(ClassDict dict, int depth)
    {
        var attributes = new OrderedDictionary<string, object?>();
        foreach (KeyValuePair<string, object> item in dict.OrderBy(item => item.Key, StringComparer.Ordinal))
        {
            if (!s_moduleInternals.Contains(item.Key) && !IsHookTable(item.Key))
            {
                attributes[item.Key] = Convert(item.Value, depth + 1);
            }
        }
        var parameters = Table<PyTorchTensor>(dict, "_parameters", depth);
        var buffers = Table<PyTorchTensor>(dict, "_buffers", depth);
        var children = Table<PyTorchModule>(dict, "_modules", depth);
        foreach (PyTorchModule? child in children.Values)
        {
            if (child is not null && !_children.Add(child))
            {
                throw Error($"uses one {child.ClassName} module as the child of several modules, which this reader does not represent.");
            }
        }
        var nonPersistent = new HashSet<string>(StringComparer.Ordinal);
        if (dict.TryGetValue("_non_persistent_buffers_set", out object? names) && Convert(names, depth + 1) is IEnumerable<object?> list)
        {
            foreach (object? name in list)
            {
                nonPersistent.Add(name as string ?? throw Error($"lists a non-string buffer name in a {dict.ClassName} module."));
            }
        }
        return new PyTorchModule(dict.ClassName, attributes, parameters, buffers, nonPersistent, children);
    }

    /// <summary>A module's <c>_parameters</c>, <c>_buffers</c> or <c>_modules</c>: names to <typeparamref name="T"/> or None.</summary>
    private OrderedDictionary<string, T?> Table<T>(ClassDict dict, string key, int depth)
        where T : class
    {
        var result = new OrderedDictionary<string, T?>();
        if (!dict.TryGetValue(key, out object? value) || value is null)
        {
            return result;
        }
        if (Convert(value, depth + 1) is not OrderedDictionary<object, object?> table)
        {
            throw Error($"gives a {dict.ClassName} module a '{key}' that is not a dictionary.");
        }
        foreach (KeyValuePair<object, object?> item in table)
        {
            if (item.Key is not string name || (item.Value is not null and not T))
            {
                throw Error($"gives a {dict.ClassName} module a '{key}' entry {item.Key} that is not a {(typeof(T) == typeof(PyTorchTensor) ? "tensor" : "module")} named by a string.");
            }
            result[name] = (T?)item.Value;
        }
        return result;
    }

    /// <summary>PyTorch's hook tables (<c>_forward_hooks</c>, <c>_state_dict_hooks</c>, ...) and flags like <c>_is_full_backward_hook</c>.</summary>
    private static bool IsHookTable(string key) => key.StartsWith('_') && key.Contains("hook", StringComparison.Ordinal);

    private static string Describe(object value) => value switch
    {
        Razorvine.Pickle.IObjectConstructor constructor => $"reference to the class or function {constructor.GetType().Name}",
        NumpyDType dtype => dtype.ToString(),
        _ => $"value of type {value.GetType().Name}",
    };

    private ModelFormatException Error(string problem) => new($"{source}: the pickle {problem}");
}
