using System;
using System.IO;
using Qinco.Core.IO;

namespace Qinco.Core.Serialization;

/// <summary>
/// A quantizer's model file: the <see cref="ContainerFile"/> of the <c>QINCOMDL</c> family whose kind is a
/// <see cref="QuantizerKind"/>. The layout is documented in docs/model-format.md.
/// </summary>
internal sealed class ModelFile
{
    /// <summary>The signature of model files.</summary>
    public const string Signature = "QINCOMDL";

    private readonly ContainerFile _container;

    public ModelFile(QuantizerKind kind)
        : this(new ContainerFile(Signature, (ushort)kind, $"{kind} model"), kind)
    {
    }

    private ModelFile(ContainerFile container, QuantizerKind kind)
    {
        _container = container;
        Kind = kind;
    }

    public QuantizerKind Kind { get; }

    /// <summary>The format version written (<see cref="ContainerFile.FormatVersion"/>): 2 for QINCo2 models, which a version-1 reader would misread.</summary>
    public ushort FormatVersion
    {
        get => _container.FormatVersion;
        set => _container.FormatVersion = value;
    }

    public void Set(string name, long value) => _container.Set(name, value);

    public void Set(string name, double value) => _container.Set(name, value);

    public void Set(string name, string value) => _container.Set(name, value);

    public void Set(string name, float[] values, params int[] shape) => _container.Set(name, values, shape);

    public void Set(string name, int[] values, params int[] shape) => _container.Set(name, values, shape);

    public long GetInt64(string name) => _container.GetInt64(name);

    public int GetInt32(string name, int min, int max) => _container.GetInt32(name, min, max);

    public double GetFloat64(string name) => _container.GetFloat64(name);

    public string GetString(string name) => _container.GetString(name);

    public bool Has(string name) => _container.Has(name);

    /// <summary>The float tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    public float[] GetFloats(string name, params int[] shape) => _container.GetFloats(name, shape);

    /// <summary>The float tensor <paramref name="name"/> of exactly <paramref name="shape"/>, every value finite.</summary>
    public float[] GetFiniteFloats(string name, params int[] shape) => _container.GetFiniteFloats(name, shape);

    public int[] GetInts(string name, params int[] shape) => _container.GetInts(name, shape);

    public void WriteTo(Stream stream) => _container.WriteTo(stream);

    /// <summary>Reads and verifies a model file; throws <see cref="ModelFormatException"/> naming the problem.</summary>
    public static ModelFile ReadFrom(Stream stream)
    {
        ContainerFile container = ContainerFile.ReadFrom(stream, Signature, "model");
        var kind = (QuantizerKind)container.Kind;
        if (!Enum.IsDefined(kind))
        {
            throw new ModelFormatException($"The model file names an unknown quantizer kind {container.Kind}.");
        }
        container.Description = $"{kind} model";
        return new ModelFile(container, kind);
    }
}
