using System;
using System.Collections.Generic;
using System.Threading;
using Qinco.Training;

namespace Qinco.Tests.Training;

/// <summary>Synchronous <see cref="IProgress{T}"/> (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}

/// <summary>
/// Toy model: linear regression y = x·w + b with loss ½(x·w + b − y)² per row; validation = mean squared error on
/// held-out rows. Gradients are accumulated in double per worker, then added to the worker's float buffers.
/// </summary>
internal sealed class LinearRegressionModel : ITrainableModel
{
    private readonly float[] _x;
    private readonly float[] _y;
    private readonly float[] _validX;
    private readonly float[] _validY;

    public LinearRegressionModel(int rows, int dimension, int seed, double noise = 0.05, int initSeed = 7)
    {
        Dimension = dimension;
        TrainingRowCount = rows;
        var rng = new Random(seed);
        var trueW = new float[dimension];
        for (int j = 0; j < dimension; j++)
        {
            trueW[j] = (float)(rng.NextDouble() * 2 - 1);
        }
        const float trueB = 0.5f;
        (_x, _y) = Make(rows);
        (_validX, _validY) = Make(128);
        Parameters = new ParameterSet();
        Weights = Parameters.Add("linear.weight", dimension);
        Bias = Parameters.Add("linear.bias", 1);
        var init = new Random(initSeed);
        for (int j = 0; j < dimension; j++)
        {
            Weights.Value[j] = (float)(init.NextDouble() - 0.5);
        }

        (float[] X, float[] Y) Make(int n)
        {
            var x = new float[n * dimension];
            var y = new float[n];
            for (int i = 0; i < n; i++)
            {
                double t = trueB;
                for (int j = 0; j < dimension; j++)
                {
                    x[(i * dimension) + j] = (float)(rng.NextDouble() * 2 - 1);
                    t += x[(i * dimension) + j] * trueW[j];
                }
                y[i] = (float)(t + (noise * (rng.NextDouble() - 0.5)));
            }
            return (x, y);
        }
    }

    public int Dimension { get; }

    public Parameter Weights { get; }

    public Parameter Bias { get; }

    public ParameterSet Parameters { get; }

    public int TrainingRowCount { get; }

    /// <summary>Scripted validation values (overrides the real MSE when set).</summary>
    public double[]? ScriptedValidation { get; set; }

    /// <summary>Called by workers before each row (e.g. to cancel mid-batch).</summary>
    public Action<int>? OnRow { get; set; }

    public int ValidationCalls { get; private set; }

    /// <summary>Called at the start of every validation with the call index (e.g. to cancel during validation).</summary>
    public Action<int, CancellationToken>? OnValidate { get; set; }

    public List<int> EpochStarts { get; } = [];

    public IGradientWorker CreateWorker(int workerIndex) => new Worker(this, Parameters);

    /// <summary>A worker that reads the weights and bias from <paramref name="parameters"/> (a device's own copy) instead of the model's.</summary>
    public IGradientWorker CreateWorkerOn(ParameterSet parameters) => new Worker(this, parameters);

    public double Validate(CancellationToken cancellationToken)
    {
        int call = ValidationCalls++;
        OnValidate?.Invoke(call, cancellationToken);
        if (ScriptedValidation is { } script)
        {
            return script[Math.Min(call, script.Length - 1)];
        }
        return Mse(_validX, _validY);
    }

    public double TrainMse() => Mse(_x, _y);

    /// <summary>Called from <see cref="OnEpochEnd"/> (e.g. to edit parameters on the host, like a dead-codeword reset).</summary>
    public Action<int>? OnEpochEndAction { get; set; }

    public void OnEpochStart(int epoch) => EpochStarts.Add(epoch);

    public void OnEpochEnd(int epoch) => OnEpochEndAction?.Invoke(epoch);

    private double Mse(float[] x, float[] y)
    {
        double sum = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double r = Predict(x, i) - y[i];
            sum += r * r;
        }
        return sum / y.Length;
    }

    private double Predict(float[] x, int row) => Predict(x, row, Weights.Value, Bias.Value[0]);

    private double Predict(float[] x, int row, float[] weights, float bias)
    {
        double p = bias;
        for (int j = 0; j < Dimension; j++)
        {
            p += x[(row * Dimension) + j] * weights[j];
        }
        return p;
    }

    private sealed class Worker(LinearRegressionModel model, ParameterSet parameters) : IGradientWorker
    {
        private readonly double[] _gw = new double[model.Dimension];

        public double ComputeLossAndGradients(ReadOnlySpan<int> rows, IReadOnlyList<float[]> gradientBuffers, CancellationToken cancellationToken)
        {
            Array.Clear(_gw);
            double gb = 0, loss = 0;
            int d = model.Dimension;
            foreach (int row in rows)
            {
                model.OnRow?.Invoke(row);
                cancellationToken.ThrowIfCancellationRequested();
                double r = model.Predict(model._x, row, parameters[0].Value, parameters[1].Value[0]) - model._y[row];
                loss += 0.5 * r * r;
                for (int j = 0; j < d; j++)
                {
                    _gw[j] += r * model._x[(row * d) + j];
                }
                gb += r;
            }
            for (int j = 0; j < d; j++)
            {
                gradientBuffers[0][j] += (float)_gw[j];
            }
            gradientBuffers[1][0] += (float)gb;
            return loss;
        }
    }
}
