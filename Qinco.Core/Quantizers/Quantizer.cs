using System;
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
    /// <summary>Starts building a <see cref="ResidualQuantizer"/> for vectors of <paramref name="dimension"/> floats.</summary>
    public static ResidualQuantizerBuilder Residual(int dimension) => new(new ResidualQuantizerOptions { Dimension = dimension });

    /// <summary>Starts building a <see cref="QincoQuantizer"/> for vectors of <paramref name="dimension"/> floats.</summary>
    public static QincoQuantizerBuilder Qinco(int dimension) => new(new QincoOptions { Dimension = dimension });

    /// <summary>Loads a quantizer saved with <see cref="IQuantizer.Save(Stream)"/>, whatever its kind.</summary>
    /// <param name="stream">The model file's bytes.</param>
    /// <param name="maxDegreeOfParallelism">Threads the loaded quantizer encodes with; -1 uses all processors.</param>
    /// <param name="loggerFactory">Where the loaded quantizer logs; null logs nothing.</param>
    /// <exception cref="ModelFormatException">The file is truncated, corrupt, of an unknown kind, or from a newer version.</exception>
    public static IQuantizer Load(Stream stream, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null)
    {
        ModelFile file = ModelFile.ReadFrom(stream);
        return file.Kind switch
        {
            QuantizerKind.Residual => ResidualQuantizer.Read(file, maxDegreeOfParallelism, loggerFactory),
            QuantizerKind.Qinco => QincoQuantizer.Read(file, maxDegreeOfParallelism, loggerFactory),
            _ => throw new ModelFormatException($"This build cannot load {file.Kind} models yet."),
        };
    }

    /// <summary>Loads a quantizer from a model file.</summary>
    /// <exception cref="ModelFormatException">The file is not a valid model; the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static IQuantizer Load(string path, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
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
