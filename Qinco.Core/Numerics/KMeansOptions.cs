using System;
using System.Collections.Generic;
using Qinco.Training;

namespace Qinco.Core.Numerics;

/// <summary>Options of <see cref="KMeans.Train(ReadOnlySpan{float}, int, int, KMeansOptions?, System.Threading.CancellationToken)"/>; defaults follow Faiss' <c>ProgressiveDimClusteringParameters</c> (ALGORITHM.md 6.2).</summary>
public sealed record KMeansOptions
{
    /// <summary>
    /// Lloyd iterations per k-means run (per dimension stage with <see cref="ProgressiveDimensions"/>). Default: 10, as
    /// in Faiss' <c>ProgressiveDimClusteringParameters</c> used by its ResidualQuantizer; note that Faiss'
    /// plain <c>Kmeans</c> wrapper defaults to 25.
    /// </summary>
    public int Iterations { get; init; } = 10;

    /// <summary>Seed of the <see cref="SplitMix64"/> streams for subsampling, initialisation, PCA sampling and empty-cluster splitting (default: 1234, as in Faiss).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>When there are more than <c>MaxPointsPerCentroid * k</c> points, a seeded sample of that many is used (default: 256, as in Faiss).</summary>
    public int MaxPointsPerCentroid { get; init; } = 256;

    /// <summary>
    /// Fewer than <c>MinPointsPerCentroid * k</c> points is allowed but adds a warning to
    /// <see cref="KMeansResult.Warnings"/> (default: 39, as in Faiss).
    /// </summary>
    public int MinPointsPerCentroid { get; init; } = 39;

    /// <summary>Threads of the assignment and PCA steps (default: all processors); results do not depend on it.</summary>
    public Parallelism Parallelism { get; init; }

    /// <summary>Run Faiss' <c>ProgressiveDimClustering</c>: k-means on growing prefixes of the (PCA) coordinates (default: false).</summary>
    public bool ProgressiveDimensions { get; init; }

    /// <summary>Number of dimension stages of the progressive variant, <c>d_s = floor(d^((s+1)/steps))</c> (default: 10, as in Faiss).</summary>
    public int ProgressiveDimensionSteps { get; init; } = 10;

    /// <summary>Whether the progressive variant first rotates the data with a full PCA (<see cref="Pca"/>) (default: true, as in Faiss).</summary>
    public bool ApplyPca { get; init; } = true;

    /// <summary>Whether <see cref="KMeansResult.Labels"/> receives the nearest final centroid of every input point (default: false).</summary>
    public bool ComputeLabels { get; init; }

    /// <summary>Distance formula of the assignment step (default: <see cref="DistanceForm.Auto"/>).</summary>
    public DistanceForm DistanceForm { get; init; } = DistanceForm.Auto;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Iterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "At least one iteration is needed.");
        }
        if (MaxPointsPerCentroid < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPointsPerCentroid), MaxPointsPerCentroid, "Must be positive.");
        }
        if (MinPointsPerCentroid < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinPointsPerCentroid), MinPointsPerCentroid, "Must not be negative.");
        }
        if (ProgressiveDimensionSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ProgressiveDimensionSteps), ProgressiveDimensionSteps, "Must be positive.");
        }
        if (!Enum.IsDefined(DistanceForm))
        {
            throw new ArgumentOutOfRangeException(nameof(DistanceForm), DistanceForm, "Unknown distance form.");
        }
    }
}

/// <summary>The outcome of a k-means training run.</summary>
public sealed class KMeansResult
{
    internal KMeansResult(int k, int dimension, float[] centroids, List<double> objective, List<int> splits,
        List<int> iterationDimensions, int trainingPointCount, int[]? labels, List<string> warnings)
    {
        K = k;
        Dimension = dimension;
        Centroids = centroids;
        Objective = objective;
        Splits = splits;
        IterationDimensions = iterationDimensions;
        TrainingPointCount = trainingPointCount;
        Labels = labels;
        Warnings = warnings;
    }

    /// <summary>Number of centroids.</summary>
    public int K { get; }

    /// <summary>Dimension of the centroids.</summary>
    public int Dimension { get; }

    /// <summary>Shape: [K, Dimension], row-major.</summary>
    public float[] Centroids { get; }

    /// <summary>
    /// Per Lloyd iteration, the sum of squared distances (in double) of the training points to their nearest centroid
    /// <b>before</b> that iteration's update (as Faiss reports it). With <see cref="KMeansOptions.ProgressiveDimensions"/>
    /// all stages are concatenated and each value is measured in its stage's dimension (<see cref="IterationDimensions"/>).
    /// </summary>
    public IReadOnlyList<double> Objective { get; }

    /// <summary>Per iteration, how many empty clusters were re-seeded by splitting after the update (0 for an iteration that stopped early).</summary>
    public IReadOnlyList<int> Splits { get; }

    /// <summary>Per iteration, the number of (PCA) coordinates clustered; all equal to <see cref="Dimension"/> for plain k-means.</summary>
    public IReadOnlyList<int> IterationDimensions { get; }

    /// <summary>How many points were clustered (after subsampling to <c>MaxPointsPerCentroid * K</c>).</summary>
    public int TrainingPointCount { get; }

    /// <summary>With <see cref="KMeansOptions.ComputeLabels"/>: the nearest final centroid of every input point; otherwise null.</summary>
    public int[]? Labels { get; }

    /// <summary>Non-fatal remarks, e.g. fewer than <c>MinPointsPerCentroid * K</c> points.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The centroids wrapped (without copying) as a <see cref="VectorSet"/>.</summary>
    public VectorSet ToVectorSet() => VectorSet.FromArray(Centroids, Dimension);
}
