using System;
using System.Diagnostics;
using System.Globalization;
using Qinco.Core;

namespace Qinco.Search;

/// <summary>The quality and speed of a quantizer on a database, as measured by <see cref="QuantizerEvaluation.Evaluate"/>.</summary>
/// <param name="Method">A short description of the quantizer, e.g. <c>"RQ beam 5"</c>.</param>
/// <param name="Mse">Mean over database vectors of the summed squared reconstruction error (raw units).</param>
/// <param name="RecallAt1">Share (0..1) of queries whose true nearest neighbour is the first result of an exhaustive search over the decoded database; null without queries.</param>
/// <param name="RecallAt10">As <paramref name="RecallAt1"/>, among the first 10 results; null without queries.</param>
/// <param name="RecallAt100">As <paramref name="RecallAt1"/>, among the first 100 results (or all of a smaller database); null without queries.</param>
/// <param name="EncodeMicrosecondsPerVector">Wall time of encoding the database, in microseconds per vector.</param>
/// <param name="DecodeMicrosecondsPerVector">Wall time of decoding the database, in microseconds per vector.</param>
/// <param name="Threads">Threads the search used (the quantizer encodes with its own setting).</param>
/// <param name="Vectors">Database vectors evaluated.</param>
/// <param name="CodeSize">Bytes per encoded vector.</param>
public sealed record EvaluationReport(
    string Method,
    double Mse,
    double? RecallAt1,
    double? RecallAt10,
    double? RecallAt100,
    double EncodeMicrosecondsPerVector,
    double DecodeMicrosecondsPerVector,
    int Threads,
    int Vectors,
    int CodeSize);

/// <summary>Measures a trained quantizer: reconstruction MSE, encode/decode speed and search recall over its reconstructions.</summary>
public static class QuantizerEvaluation
{
    /// <summary>The largest k of the recall measures.</summary>
    private const int MaxRecallK = 100;

    /// <summary>Vectors encoded and decoded before the timed runs.</summary>
    private const int WarmUpVectors = 64;

    /// <summary>
    /// Encodes <paramref name="database"/> (timed), decodes it (timed), computes the reconstruction MSE and, when
    /// queries are given, 1-recall@1/10/100 of an exact search (<see cref="FlatSearch"/>) over the decoded vectors.
    /// </summary>
    /// <remarks>A few vectors are encoded and decoded untimed first, so the timings exclude JIT compilation.</remarks>
    /// <param name="quantizer">A trained quantizer.</param>
    /// <param name="database">The vectors to compress; at least one.</param>
    /// <param name="queries">Query vectors, or null to skip the recall measures.</param>
    /// <param name="groundTruth">Shape: [queries, at least 1]; each query's true nearest neighbours as 64-bit row indices of
    /// <paramref name="database"/> (counting from its first row), nearest first. Required with <paramref name="queries"/>.</param>
    /// <param name="maxDegreeOfParallelism">Threads of the search; -1 uses all processors.</param>
    /// <param name="method">The report's method name; null uses <see cref="IQuantizer.Description"/>.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="quantizer"/> or <paramref name="database"/> is null.</exception>
    /// <exception cref="ArgumentException">The quantizer is untrained, the database is empty, the dimensions differ,
    /// only one of queries and ground truth is given, their row counts differ, or a ground-truth id is not a database row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A degree of parallelism that is neither -1 nor positive.</exception>
    public static EvaluationReport Evaluate(
        IQuantizer quantizer, VectorSet database, VectorSet? queries = null, Matrix<long>? groundTruth = null,
        int maxDegreeOfParallelism = -1, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(database);
        if (!quantizer.IsTrained)
        {
            throw new ArgumentException("The quantizer is not trained: fit it or load a saved model first.", nameof(quantizer));
        }
        if (database.Count == 0)
        {
            throw new ArgumentException("The database is empty: there is nothing to evaluate.", nameof(database));
        }
        if (database.Dimension != quantizer.Dimension)
        {
            throw new ArgumentException($"The database has dimension {database.Dimension}, but the quantizer was built for dimension {quantizer.Dimension}.", nameof(database));
        }
        if ((queries is null) != (groundTruth is null))
        {
            throw new ArgumentException("Queries and ground truth go together: give both or neither.", queries is null ? nameof(queries) : nameof(groundTruth));
        }
        if (maxDegreeOfParallelism != -1 && maxDegreeOfParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "The degree of parallelism must be -1 (all processors) or at least 1.");
        }
        if (queries is not null && groundTruth is not null)
        {
            CheckQueries(database, queries, groundTruth);
        }

        int n = database.Count;
        // Warm-up: the first calls compile the encode and decode paths; keep that out of the timings.
        VectorSet warmUp = database.Slice(0, Math.Min(n, WarmUpVectors));
        quantizer.Decode(quantizer.Encode(warmUp));

        var watch = Stopwatch.StartNew();
        CodeSet codes = quantizer.Encode(database);
        double encodeSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        VectorSet decoded = quantizer.Decode(codes);
        double decodeSeconds = watch.Elapsed.TotalSeconds;

        double mse = MeanSquaredError(database, decoded);

        double? r1 = null, r10 = null, r100 = null;
        if (queries is not null && groundTruth is not null)
        {
            int k = Math.Min(MaxRecallK, n);
            SearchResult result = FlatSearch.Search(decoded, queries, k, maxDegreeOfParallelism);
            r1 = Recall.AtK(result, groundTruth, 1);
            r10 = Recall.AtK(result, groundTruth, Math.Min(10, k));
            r100 = Recall.AtK(result, groundTruth, k);
        }

        int threads = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        return new EvaluationReport(
            method ?? quantizer.Description, mse, r1, r10, r100,
            encodeSeconds * 1e6 / n, decodeSeconds * 1e6 / n, threads, n, quantizer.CodeSize);
    }

    /// <summary>Mean over vectors of the summed squared difference between matching rows, accumulated in double precision.</summary>
    /// <param name="original">The original vectors.</param>
    /// <param name="reconstruction">The reconstructions, of the same shape.</param>
    /// <returns>The mean squared error per vector; 0 for empty sets.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static double MeanSquaredError(VectorSet original, VectorSet reconstruction)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(reconstruction);
        if (original.Count != reconstruction.Count || original.Dimension != reconstruction.Dimension)
        {
            throw new ArgumentException($"The reconstruction is {reconstruction.Count} x {reconstruction.Dimension}, the original {original.Count} x {original.Dimension}.", nameof(reconstruction));
        }
        if (original.Count == 0)
        {
            return 0;
        }
        ReadOnlySpan<float> a = original.Data, b = reconstruction.Data;
        double total = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double diff = (double)a[i] - b[i];
            total += diff * diff;
        }
        return total / original.Count;
    }

    private static void CheckQueries(VectorSet database, VectorSet queries, Matrix<long> groundTruth)
    {
        if (queries.Dimension != database.Dimension)
        {
            throw new ArgumentException($"The queries have dimension {queries.Dimension}, but the database has dimension {database.Dimension}.", nameof(queries));
        }
        if (groundTruth.Rows != queries.Count)
        {
            throw new ArgumentException($"The ground truth has {groundTruth.Rows} rows but there are {queries.Count} queries.", nameof(groundTruth));
        }
        for (int q = 0; q < groundTruth.Rows; q++)
        {
            long id = groundTruth[q, 0];
            if (id < 0 || id >= database.Count)
            {
                throw new ArgumentException($"Ground-truth row {q} names neighbour {id}, which is not a row of the {database.Count}-vector database (ids count from the database's first row).", nameof(groundTruth));
            }
        }
    }
}
