using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Logging;
using Qinco.Core.Serialization;

namespace Qinco.Core;

/// <summary>Entry point: fluent builders for every quantizer, and loading of saved models of any kind.</summary>
/// <example>
/// <code>
/// var rq = Quantizer.Residual(dimension: 128).WithSteps(8).WithCodebookBits(8).WithBeamWidth(5).WithSeed(1).Build();
/// rq.Fit(train);
/// byte[] codes = rq.Encode(vectors);
/// </code>
/// </example>
public static class Quantizer
{
    /// <summary>How each kind is read back from a model file; adding a kind means adding its reader here.</summary>
    private static readonly Dictionary<QuantizerKind, ModelReader> s_readers = new()
    {
        [QuantizerKind.Residual] = ResidualQuantizer.Read,
        [QuantizerKind.Qinco] = QincoQuantizer.Read,
        [QuantizerKind.IvfQinco] = IvfQincoQuantizer.Read,
    };

    /// <summary>Starts building a <see cref="ResidualQuantizer"/> for vectors of <paramref name="dimension"/> floats.</summary>
    public static ResidualQuantizerBuilder Residual(int dimension) => new(new ResidualQuantizerOptions { Dimension = dimension });

    /// <summary>Starts building a <see cref="QincoQuantizer"/> for vectors of <paramref name="dimension"/> floats.</summary>
    public static QincoQuantizerBuilder Qinco(int dimension) => new(new QincoOptions { Dimension = dimension });

    /// <summary>Starts building an <see cref="IvfQincoQuantizer"/> for vectors of <paramref name="dimension"/> floats.</summary>
    public static IvfQincoQuantizerBuilder IvfQinco(int dimension) => new(new IvfQincoOptions { Dimension = dimension });

    /// <summary>Loads a quantizer saved with <see cref="IQuantizer.Save(Stream)"/>, whatever its kind.</summary>
    /// <param name="stream">The model file's bytes.</param>
    /// <param name="maxDegreeOfParallelism">Threads the loaded quantizer computes with; -1 (default) uses all processors.</param>
    /// <param name="loggerFactory">Where the loaded quantizer logs; null logs nothing.</param>
    /// <exception cref="ModelFormatException">The file is truncated, corrupt, of an unknown kind, from a newer version, or holds a value outside <see cref="QuantizerLimits"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public static IQuantizer Load(Stream stream, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null)
    {
        var parallelism = new Parallelism(maxDegreeOfParallelism);
        ModelFile file = ModelFile.ReadFrom(stream);
        if (!s_readers.TryGetValue(file.Kind, out ModelReader? read))
        {
            throw new ModelFormatException($"This build cannot load {file.Kind} models yet.");
        }
        var header = new ModelHeader(
            file.GetInt32("dimension", 1, QuantizerLimits.MaxDimension),
            file.GetInt32("steps", 1, QuantizerLimits.MaxSteps),
            file.GetInt32("codebook_bits", 1, QuantizerLimits.MaxCodebookBits));
        try
        {
            return read(file, header, parallelism, loggerFactory);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new ModelFormatException($"The {file.Kind} model holds an invalid setting: {ex.Message}", ex);
        }
    }

    /// <summary>Loads a quantizer from a model file.</summary>
    /// <exception cref="ModelFormatException">The file is not a valid model (or the path is a directory); the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static IQuantizer Load(string path, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new ModelFormatException($"{path} is a directory, not a model file.");
        }
        using FileStream stream = File.OpenRead(path);
        try
        {
            return Load(stream, maxDegreeOfParallelism, loggerFactory);
        }
        catch (ModelFormatException ex)
        {
            throw new ModelFormatException($"{path}: {ex.Message}", ex);
        }
    }
}

/// <summary>The fields every model file starts with, read and range-checked once for every kind.</summary>
internal readonly record struct ModelHeader(int Dimension, int Steps, int CodebookBits);

/// <summary>Builds a quantizer of one kind from its model file.</summary>
internal delegate QuantizerBase ModelReader(ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory);
