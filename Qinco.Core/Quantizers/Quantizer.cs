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
        return FromModelFile(ModelFile.ReadFrom(stream), parallelism, loggerFactory);
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

    /// <summary>
    /// Imports a model trained by the QINCo1 reference (PyTorch): a <see cref="QincoQuantizer"/> for
    /// <see cref="ReferenceFormat.Qinco1"/>, an <see cref="IvfQincoQuantizer"/> for <see cref="ReferenceFormat.IvfQinco1"/>,
    /// with the reference's greedy, exhaustive encoder (<see cref="EncoderSearch.Greedy"/>, one probed list), so it
    /// decodes the reference's codes to the reference's reconstructions and encodes vectors to the reference's codes
    /// (up to float32 rounding on near-ties). The tensors are copied. Keys are mapped by pattern (ALGORITHM.md §7.1;
    /// IVF steps s = 0 … M−1 become this library's steps 1 … M).
    /// </summary>
    /// <param name="checkpoint">The state dict and hyper-parameters, e.g. from <see cref="ReferenceCheckpoint.ReadSafetensors(string)"/> or Qinco.Interop's PyTorch reader.</param>
    /// <param name="maxDegreeOfParallelism">Threads the quantizer computes with; -1 (default) uses all processors.</param>
    /// <param name="loggerFactory">Where the quantizer logs; null logs nothing.</param>
    /// <returns>A trained quantizer; save it with <see cref="QuantizerExtensions.Save(IQuantizer, string)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="checkpoint"/> is null.</exception>
    /// <exception cref="ModelFormatException">A hyper-parameter is out of range (K not a power of two, say), or a tensor is missing, extra, mis-shaped or not finite; the message names the checkpoint's source and the reference key.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public static IQuantizer FromReference(ReferenceCheckpoint checkpoint, int maxDegreeOfParallelism = -1, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var parallelism = new Parallelism(maxDegreeOfParallelism);
        ModelFile file = checkpoint.ToModelFile();
        try
        {
            return FromModelFile(file, parallelism, loggerFactory);
        }
        catch (ModelFormatException ex) when (!ex.Message.StartsWith(checkpoint.Source, StringComparison.Ordinal))
        {
            throw new ModelFormatException($"{checkpoint.Source}: {ex.Message}", ex);
        }
    }

    /// <summary>Builds the quantizer a model file describes, whatever its kind (the reader of <see cref="Load(Stream, int, ILoggerFactory?)"/>, also used for models built in memory).</summary>
    /// <exception cref="ModelFormatException">An unknown kind, a missing or mis-shaped field, or a value outside <see cref="QuantizerLimits"/>.</exception>
    internal static QuantizerBase FromModelFile(ModelFile file, Parallelism parallelism, ILoggerFactory? loggerFactory)
    {
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
}

/// <summary>The fields every model file starts with, read and range-checked once for every kind.</summary>
internal readonly record struct ModelHeader(int Dimension, int Steps, int CodebookBits);

/// <summary>Builds a quantizer of one kind from its model file.</summary>
internal delegate QuantizerBase ModelReader(ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory);
