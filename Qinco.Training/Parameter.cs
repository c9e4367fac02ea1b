using System;
using System.Collections.Generic;

namespace Qinco.Training;

/// <summary>
/// A named trainable tensor: its values stored row-major in one flat <see cref="float"/> array, and a gradient
/// array of the same length.
/// </summary>
/// <remarks>
/// The arrays are exposed directly (no copies) because models read and write them in their hot loops. The
/// <see cref="Value"/> and <see cref="Gradient"/> array instances never change over the parameter's lifetime.
/// </remarks>
public sealed class Parameter
{
    private readonly int[] _shape;

    /// <summary>Creates a zero-initialised parameter of the given shape.</summary>
    /// <param name="name">Unique name inside its <see cref="ParameterSet"/>, e.g. <c>"step3.block1.U"</c>.</param>
    /// <param name="shape">Dimensions, outermost first; an empty shape is a scalar (one element).</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative dimension, or more elements than an array can hold.</exception>
    public Parameter(string name, params int[] shape)
        : this(name, shape, null)
    {
    }

    /// <summary>Creates a parameter of the given shape that wraps (does not copy) <paramref name="values"/>.</summary>
    /// <param name="name">Unique name inside its <see cref="ParameterSet"/>.</param>
    /// <param name="shape">Dimensions, outermost first; an empty shape is a scalar (one element).</param>
    /// <param name="values">Initial values (wrapped, not copied), length = product of <paramref name="shape"/>;
    /// null gives zeros.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or <paramref name="values"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative dimension, or more elements than an array can hold.</exception>
    public Parameter(string name, int[] shape, float[]? values)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long length = 1;
        foreach (int dimension in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dimension, nameof(shape));
            length *= dimension;
            if (length > Array.MaxLength)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has more elements than an array can hold.");
            }
        }
        if (values is not null && values.Length != length)
        {
            throw new ArgumentException($"Parameter '{name}' has shape [{string.Join(", ", shape)}] = {length} elements but {values.Length} values were given.", nameof(values));
        }
        Name = name;
        _shape = (int[])shape.Clone();
        Value = values ?? new float[length];
        Gradient = new float[length];
    }

    /// <summary>The parameter's unique name.</summary>
    public string Name { get; }

    /// <summary>The tensor shape, outermost dimension first (read-only copy of what was given).</summary>
    public IReadOnlyList<int> Shape => Array.AsReadOnly(_shape);

    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public int Length => Value.Length;

    /// <summary>The values, row-major. Shape: <see cref="Shape"/>.</summary>
    public float[] Value { get; }

    /// <summary>The gradient of the loss with respect to <see cref="Value"/>, same layout and length.</summary>
    public float[] Gradient { get; }

    internal int[] ShapeArray => _shape;

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", _shape)}]";
}
