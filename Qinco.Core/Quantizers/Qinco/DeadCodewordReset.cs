using System;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>
/// QINCo2's dead-codeword reset (ALGORITHM.md §5.8): during an epoch every worker counts, per neural step, how often
/// each codeword is chosen and the mean and spread of the step's targets <c>x̃ − x̂_{m−1}</c> (along the chosen codes;
/// the reference keeps an EMA over every beam); at the end of the epoch every codeword no training vector chose is
/// replaced by a random vector with the targets' per-dimension mean and standard deviation, and the matching row of the
/// pre-selection codebook by the same vector plus a little noise. Used codewords are left alone.
/// </summary>
internal sealed class DeadCodewordReset(QincoModel model, int seed)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Tally> _tallies = new();

    /// <summary>Worker <paramref name="worker"/>'s counts for the current epoch (merged in worker order, so the reset does not depend on thread timing).</summary>
    public Tally CreateTally(int worker) => _tallies.GetOrAdd(worker, _ => new Tally(model));

    /// <summary>Replaces the unused codewords of every step from the epoch's tallies (merged in worker order), then clears them. Returns how many were replaced.</summary>
    public int Apply(int epoch)
    {
        int d = model.Dimension, k = model.CodebookSize, replaced = 0;
        for (int m = 1; m < model.Steps; m++)
        {
            var counts = new long[k];
            var sum = new double[d];
            var squares = new double[d];
            long rows = 0;
            foreach (Tally tally in Ordered())
            {
                for (int c = 0; c < k; c++)
                {
                    counts[c] += tally.Counts[m][c];
                }
                for (int j = 0; j < d; j++)
                {
                    sum[j] += tally.Sum[m][j];
                    squares[j] += tally.Squares[m][j];
                }
                rows += tally.Rows[m];
            }
            if (rows == 0)
            {
                continue;
            }
            QincoStepTensors p = model.Step(m).Parameters;
            var random = new SplitMix64(unchecked(((ulong)(uint)seed << 32) ^ ((ulong)(uint)epoch << 12) ^ (uint)m));
            for (int c = 0; c < k; c++)
            {
                if (counts[c] != 0)
                {
                    continue;
                }
                replaced++;
                for (int j = 0; j < d; j++)
                {
                    double mean = sum[j] / rows, std = Math.Sqrt(Math.Max(0, (squares[j] / rows) - (mean * mean)));
                    // A uniform draw standardised (mean 0, std 1), as the reference standardises its U[0, 1) draw.
                    double rho = (random.NextDouble() - 0.5) * Math.Sqrt(12);
                    float value = (float)(mean + (rho * std));
                    p.Codebook[(c * d) + j] = value;
                    if (p.Preselection is not null)
                    {
                        p.Preselection[(c * d) + j] = value + (float)((random.NextDouble() - 0.5) * Math.Sqrt(12) * 0.025 * std);
                    }
                }
            }
        }
        foreach (Tally tally in _tallies.Values)
        {
            tally.Clear();
        }
        return replaced;
    }

    private System.Collections.Generic.IEnumerable<Tally> Ordered() => System.Linq.Enumerable.Select(System.Linq.Enumerable.OrderBy(_tallies, pair => pair.Key), pair => pair.Value);

    /// <summary>One worker's per-step codeword counts and target sums for the current epoch.</summary>
    internal sealed class Tally(QincoModel model)
    {
        public long[][] Counts { get; } = Make(model.Steps, model.CodebookSize, static n => new long[n]);

        public double[][] Sum { get; } = Make(model.Steps, model.Dimension, static n => new double[n]);

        public double[][] Squares { get; } = Make(model.Steps, model.Dimension, static n => new double[n]);

        public long[] Rows { get; } = new long[model.Steps];

        /// <summary>Counts step m's codes and its targets <c>x − x̂_{m−1}</c> for <paramref name="n"/> vectors.</summary>
        public void Add(int m, ReadOnlySpan<int> codes, ReadOnlySpan<float> x, ReadOnlySpan<float> previous, int n)
        {
            int d = model.Dimension;
            for (int i = 0; i < n; i++)
            {
                Counts[m][codes[i]]++;
                for (int j = 0; j < d; j++)
                {
                    double target = x[(i * d) + j] - previous[(i * d) + j];
                    Sum[m][j] += target;
                    Squares[m][j] += target * target;
                }
            }
            Rows[m] += n;
        }

        public void Clear()
        {
            foreach (long[] c in Counts)
            {
                Array.Clear(c);
            }
            foreach (double[] s in Sum)
            {
                Array.Clear(s);
            }
            foreach (double[] s in Squares)
            {
                Array.Clear(s);
            }
            Array.Clear(Rows);
        }

        private static T[][] Make<T>(int steps, int length, Func<int, T[]> create)
        {
            var arrays = new T[steps][];
            for (int m = 0; m < steps; m++)
            {
                arrays[m] = create(length);
            }
            return arrays;
        }
    }
}
