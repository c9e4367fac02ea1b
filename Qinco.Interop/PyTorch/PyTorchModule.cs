using System.Collections.Generic;

namespace Qinco.Interop;

/// <summary>
/// A pickled <c>torch.nn.Module</c> (what <c>torch.save(model)</c> writes, e.g. the QINCo1 reference's
/// <c>model_qinco.QINCo</c>), restored as data: its class name, its plain attributes, its parameters, buffers and
/// child modules. No code of the class exists or runs here: only names the reader allows are restored at all
/// (<see cref="PyTorchCheckpoint"/>).
/// </summary>
public sealed class PyTorchModule
{
    internal PyTorchModule(string className, OrderedDictionary<string, object?> attributes, OrderedDictionary<string, PyTorchTensor?> parameters,
        OrderedDictionary<string, PyTorchTensor?> buffers, IReadOnlySet<string> nonPersistentBuffers, OrderedDictionary<string, PyTorchModule?> children) =>
        (ClassName, Attributes, Parameters, Buffers, NonPersistentBuffers, Children) = (className, attributes, parameters, buffers, nonPersistentBuffers, children);

    /// <summary>The qualified class name the pickle gives, e.g. <c>model_qinco.QINCo</c> or <c>torch.nn.modules.linear.Linear</c>.</summary>
    public string ClassName { get; }

    /// <summary>
    /// The module's own attributes (its <c>__dict__</c> without PyTorch's bookkeeping: the <c>_parameters</c>,
    /// <c>_buffers</c>, <c>_modules</c> and hook dicts, and <c>training</c>), e.g. the reference's <c>d, K, L, M, h,
    /// db_scale</c>, in ordinal order of their names (the pickle keeps them in a plain dict, whose order is lost).
    /// Values are data as <see cref="PyTorchCheckpoint.Root"/> describes; a NumPy
    /// scalar reads as a <see cref="double"/> or <see cref="long"/>.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Attributes { get; }

    /// <summary>The module's own parameters (not its children's), by name; a registered but unset parameter is null.</summary>
    public IReadOnlyDictionary<string, PyTorchTensor?> Parameters { get; }

    /// <summary>The module's own buffers, by name, persistent or not.</summary>
    public IReadOnlyDictionary<string, PyTorchTensor?> Buffers { get; }

    /// <summary>Names of <see cref="Buffers"/> that are not part of the state dict.</summary>
    public IReadOnlySet<string> NonPersistentBuffers { get; }

    /// <summary>The child modules, by attribute name; a registered but unset child is null.</summary>
    public IReadOnlyDictionary<string, PyTorchModule?> Children { get; }

    /// <summary>
    /// The state dict PyTorch's <c>module.state_dict()</c> would return: the parameters, then the persistent buffers,
    /// then each child's entries prefixed with its name and a dot, recursively; unset entries are left out.
    /// </summary>
    public IReadOnlyDictionary<string, PyTorchTensor> StateDict()
    {
        var result = new OrderedDictionary<string, PyTorchTensor>();
        AddTo(result, string.Empty);
        return result;
    }

    /// <inheritdoc/>
    public override string ToString() => $"module {ClassName}";

    private void AddTo(OrderedDictionary<string, PyTorchTensor> result, string prefix)
    {
        foreach (KeyValuePair<string, PyTorchTensor?> p in Parameters)
        {
            if (p.Value is not null)
            {
                result[prefix + p.Key] = p.Value;
            }
        }
        foreach (KeyValuePair<string, PyTorchTensor?> b in Buffers)
        {
            if (b.Value is not null && !NonPersistentBuffers.Contains(b.Key))
            {
                result[prefix + b.Key] = b.Value;
            }
        }
        foreach (KeyValuePair<string, PyTorchModule?> child in Children)
        {
            // The reader builds a tree (no module is anyone's child twice) no deeper than PickleData.MaxDepth, so this
            // recursion is bounded and visits each module once.
            child.Value?.AddTo(result, $"{prefix}{child.Key}.");
        }
    }
}
