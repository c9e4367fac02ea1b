using System;
using System.Collections;
using System.Collections.Generic;

namespace Qinco.Training;

/// <summary>
/// An ordered collection of <see cref="Parameter"/>s with lookup by name. The order is the order of
/// <see cref="Add(Parameter)"/> calls and defines the layout of flat snapshots, optimiser state and checkpoints.
/// </summary>
public sealed class ParameterSet : IReadOnlyList<Parameter>
{
    private readonly List<Parameter> _parameters = [];
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates an empty set.</summary>
    public ParameterSet()
    {
    }

    /// <summary>Creates a set holding <paramref name="parameters"/> in enumeration order.</summary>
    /// <exception cref="ArgumentException">Two parameters share a name.</exception>
    public ParameterSet(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (Parameter parameter in parameters)
        {
            Add(parameter);
        }
    }

    /// <summary>Number of parameter tensors.</summary>
    public int Count => _parameters.Count;

    /// <summary>Total number of scalar elements over all tensors.</summary>
    public long TotalElementCount { get; private set; }

    /// <summary>The parameter at <paramref name="index"/> (insertion order).</summary>
    public Parameter this[int index] => _parameters[index];

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public Parameter this[string name] =>
        _byName.TryGetValue(name, out Parameter? parameter)
            ? parameter
            : throw new KeyNotFoundException($"No parameter named '{name}'.");

    /// <summary>Looks a parameter up by name.</summary>
    /// <returns>True when found.</returns>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Parameter? parameter) =>
        _byName.TryGetValue(name, out parameter);

    /// <summary>Appends <paramref name="parameter"/>.</summary>
    /// <returns>The parameter, for chaining.</returns>
    /// <exception cref="ArgumentException">A parameter with the same name is already in the set.</exception>
    public Parameter Add(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (!_byName.TryAdd(parameter.Name, parameter))
        {
            throw new ArgumentException($"A parameter named '{parameter.Name}' is already in the set.", nameof(parameter));
        }
        _parameters.Add(parameter);
        TotalElementCount += parameter.Length;
        return parameter;
    }

    /// <summary>Creates, appends and returns a zero-initialised parameter.</summary>
    /// <param name="name">Unique name.</param>
    /// <param name="shape">Dimensions, outermost first.</param>
    public Parameter Add(string name, params int[] shape) => Add(new Parameter(name, shape));

    /// <summary>Sets every gradient element of every parameter to zero.</summary>
    public void ZeroGradients()
    {
        foreach (Parameter parameter in _parameters)
        {
            Array.Clear(parameter.Gradient);
        }
    }

    /// <summary>Copies all values, tensor after tensor in set order, into a new flat array.</summary>
    /// <exception cref="InvalidOperationException">More elements than one array can hold.</exception>
    public float[] CopyValuesToSnapshot()
    {
        if (TotalElementCount > Array.MaxLength)
        {
            throw new InvalidOperationException("The parameter set is too large for a single flat snapshot array.");
        }
        var snapshot = new float[TotalElementCount];
        CopyValuesTo(snapshot);
        return snapshot;
    }

    /// <summary>Copies all values, tensor after tensor in set order, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not exactly <see cref="TotalElementCount"/> long.</exception>
    public void CopyValuesTo(Span<float> destination) => Flatten(p => p.Value, destination);

    /// <summary>Overwrites all values from a flat snapshot laid out as by <see cref="CopyValuesTo(Span{float})"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not exactly <see cref="TotalElementCount"/> long.</exception>
    public void CopyValuesFrom(ReadOnlySpan<float> source)
    {
        CheckFlatLength(source.Length, nameof(source));
        int offset = 0;
        foreach (Parameter parameter in _parameters)
        {
            source.Slice(offset, parameter.Length).CopyTo(parameter.Value);
            offset += parameter.Length;
        }
    }

    /// <summary>Copies all gradients, tensor after tensor in set order, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not exactly <see cref="TotalElementCount"/> long.</exception>
    public void CopyGradientsTo(Span<float> destination) => Flatten(p => p.Gradient, destination);

    /// <inheritdoc />
    public IEnumerator<Parameter> GetEnumerator() => _parameters.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Flatten(Func<Parameter, float[]> array, Span<float> destination)
    {
        CheckFlatLength(destination.Length, nameof(destination));
        int offset = 0;
        foreach (Parameter parameter in _parameters)
        {
            array(parameter).AsSpan().CopyTo(destination.Slice(offset));
            offset += parameter.Length;
        }
    }

    private void CheckFlatLength(int length, string argumentName)
    {
        if (length != TotalElementCount)
        {
            throw new ArgumentException($"Expected {TotalElementCount} elements (the set's total), got {length}.", argumentName);
        }
    }
}
