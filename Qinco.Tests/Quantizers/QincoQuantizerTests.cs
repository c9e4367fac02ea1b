using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Search;
using Qinco.Training;

namespace Qinco.Tests.Quantizers;

public sealed class QincoQuantizerTests
{
    private const int D = 16;

    /// <summary>QINCo1, QINCo2 with De = D (skip term, pre-selection codebooks) and QINCo2 with projections (De = 3 ≠ D = 5).</summary>
    private static readonly QincoStepShape[] s_gradientShapes =
    [
        Shape(5, 4, blocks: 2, hidden: 6),
        new(5, 4, Embedding: 5, Hidden: 6, Blocks: 2, Projections: false, CodewordSkip: 1f, Preselection: true),
        new(5, 4, Embedding: 3, Hidden: 6, Blocks: 2, Projections: true, CodewordSkip: 1f, Preselection: true),
    ];

    [Test]
    public void Gradients_MatchCentralFiniteDifferencesOfADoubleReference([Values(0, 1, 2)] int shape, [Values(false, true)] bool finalStepOnly)
    {
        QincoModel network = QincoModel.Zeros(s_gradientShapes[shape], steps: 3, scale: 1f, mean: null);
        var random = new Random(11);
        foreach (float[] tensor in network.Tensors.Select(t => t.Values))
        {
            for (int i = 0; i < tensor.Length; i++)
            {
                tensor[i] = (float)(random.NextDouble() * 2 - 1) * 0.7f;
            }
        }
        const int n = 4;
        float[] x = Enumerable.Range(0, n * 5).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int[] codes = Enumerable.Range(0, n * 3).Select(_ => random.Next(4)).ToArray();

        float[][] gradients = network.Tensors.Select(t => new float[t.Values.Length]).ToArray();
        using var lossGradient = new QincoLossGradient(network, finalStepOnly);
        double loss = lossGradient.Compute(network.CreateTables(threads: 1), x, codes, n, gradients);
        double[][] parameters = Parameters(network);
        double[][] frozen = Parameters(network);
        Assert.That(loss, Is.EqualTo(ReferenceLoss(network, parameters, frozen, x, codes, n, finalStepOnly)).Within(1e-4).Percent);

        const double h = 1e-6;
        int checkedCount = 0;
        for (int t = 0; t < parameters.Length; t++)
        {
            for (int i = 0; i < parameters[t].Length; i++)
            {
                double saved = parameters[t][i];
                parameters[t][i] = saved + h;
                double plus = ReferenceLoss(network, parameters, frozen, x, codes, n, finalStepOnly);
                parameters[t][i] = saved - h;
                double minus = ReferenceLoss(network, parameters, frozen, x, codes, n, finalStepOnly);
                parameters[t][i] = saved;
                double numeric = (plus - minus) / (2 * h);
                double analytic = gradients[t][i];
                Assert.That(analytic, Is.EqualTo(numeric).Within(1e-3 * Math.Max(1, Math.Abs(numeric))), $"{network.Tensors[t].Name}[{i}]");
                checkedCount++;
            }
        }
        Assert.That(checkedCount, Is.EqualTo(network.ParameterCount));
    }

    [Test]
    public void EncodersReconstruction_EqualsDecodingItsCodes()
    {
        QincoModel network = RandomNetwork(seed: 3);
        VectorSet data = SyntheticData.Generate(37, D, seed: 5);
        float[] x = data.Data.Select(v => v / 10f).ToArray();
        var codes = new int[37 * network.Steps];
        var reconstruction = new float[37 * D];
        QincoStepTables[] tables = network.CreateTables(threads: 1);
        QincoQuantizer.EncodeNormalised(network, tables, EncoderSearch.Greedy, x, 37, codes, reconstruction, threads: 1);
        var decoded = new float[37 * D];
        using var activations = new QincoActivations(network.StepShape, keepLayers: false);
        network.Decode(tables, codes, 37, network.Steps, decoded, activations, new int[37]);
        for (int i = 0; i < decoded.Length; i++)
        {
            Assert.That(decoded[i], Is.EqualTo(reconstruction[i]).Within(1e-4f * Math.Max(1f, Math.Abs(reconstruction[i]))));
        }
    }

    [Test]
    public void EncodersChoice_IsTheExhaustiveArgminOfTheStepNetwork()
    {
        QincoModel network = RandomNetwork(seed: 4);
        float[] x = SyntheticData.Generate(5, D, seed: 6).Data.Select(v => v / 10f).ToArray();
        var codes = new int[5 * network.Steps];
        QincoQuantizer.EncodeNormalised(network, network.CreateTables(threads: 1), EncoderSearch.Greedy, x, 5, codes, [], threads: 1);
        double[][] parameters = Parameters(network);
        for (int i = 0; i < 5; i++)
        {
            // Replay greedily with the double reference: every chosen code must be (within rounding) the best one.
            double[] xhat = new double[D];
            for (int s = 0; s < network.Steps; s++)
            {
                double[] best = null!;
                double bestError = double.PositiveInfinity, chosenError = double.NaN;
                for (int k = 0; k < network.CodebookSize; k++)
                {
                    double[] next = ReferenceStep(network, parameters, s, k, xhat);
                    double error = 0;
                    for (int j = 0; j < D; j++)
                    {
                        double diff = x[i * D + j] - next[j];
                        error += diff * diff;
                    }
                    if (error < bestError)
                    {
                        bestError = error;
                    }
                    if (k == codes[i * network.Steps + s])
                    {
                        chosenError = error;
                        best = next;
                    }
                }
                Assert.That(chosenError, Is.EqualTo(bestError).Within(1e-4 * Math.Max(1, bestError)), $"vector {i} step {s}");
                xhat = best;
            }
        }
    }

    [Test]
    public void ZeroInitialisedModel_ReproducesGreedyRqCodesAndMse()
    {
        VectorSet train = SyntheticData.Generate(1500, D, seed: 1, latentDimension: 8);
        VectorSet test = SyntheticData.Generate(300, D, seed: 2, latentDimension: 8);
        var rq = Quantizer.Residual(D).WithSteps(4).WithCodebookBits(5).WithBeamWidth(1).WithSeed(3).WithThreads(2).Build();
        rq.Fit(train);
        QincoModel network = NetworkFrom(rq, scale: 7f);
        var codes = new int[300 * 4];
        float[] normalised = test.Data.Select(v => v / 7f).ToArray();
        var reconstruction = new float[300 * D];
        QincoQuantizer.EncodeNormalised(network, network.CreateTables(threads: 1), EncoderSearch.Greedy, normalised, 300, codes, reconstruction, threads: 2);

        byte[] rqCodes = rq.Encode(test).Data;
        var rqIndices = new int[300 * 4];
        for (int i = 0; i < 300; i++)
        {
            CodePacking.Unpack(rqCodes.AsSpan(i * rq.CodeSize, rq.CodeSize), rq.Layout, rqIndices.AsSpan(i * 4, 4));
        }
        int same = rqIndices.Zip(codes).Count(pair => pair.First == pair.Second);
        Assert.That(same, Is.GreaterThanOrEqualTo(rqIndices.Length - 3), "identical codes up to rare floating-point ties");
        double rqMse = Mse(test, rq.Decode(rqCodes));
        double qincoMse = Mse(test, VectorSet.FromArray(reconstruction.Select(v => v * 7f).ToArray(), D));
        Assert.That(qincoMse, Is.EqualTo(rqMse).Within(0.01).Percent);
    }

    [TestCase(4, 0)]
    [TestCase(4, 6)]
    [TestCase(3, 3)]
    public void ZeroInitialisedBeamSearch_ReproducesRqBeamSearch(int beam, int candidates)
    {
        VectorSet train = SyntheticData.Generate(1500, D, seed: 1, latentDimension: 8);
        VectorSet test = SyntheticData.Generate(300, D, seed: 2, latentDimension: 8);
        var rq = Quantizer.Residual(D).WithSteps(4).WithCodebookBits(5).WithBeamWidth(1).WithSeed(3).WithThreads(2).Build();
        rq.Fit(train);
        QincoModel network = NetworkFrom(rq, scale: 7f);
        var codes = new int[300 * 4];
        var reconstruction = new float[300 * D];
        QincoQuantizer.EncodeNormalised(network, network.CreateTables(threads: 1), new EncoderSearch(beam, candidates), test.Data.Select(v => v / 7f).ToArray(), 300, codes, reconstruction, threads: 2);
        double qincoMse = Mse(test, VectorSet.FromArray(reconstruction.Select(v => v * 7f).ToArray(), D));
        ResidualQuantizer rqBeam = rq.WithBeamWidth(beam);
        double rqMse = Mse(test, rqBeam.Decode(rqBeam.Encode(test)));
        Assert.That(qincoMse, Is.EqualTo(rqMse).Within(0.05).Percent);
        Assert.That(qincoMse, Is.LessThan(Mse(test, rq.Decode(rq.Encode(test)))), "the beam beats greedy");
    }

    [Test]
    public void Fit_WithZeroInit_StartsAtRqAndTrainingLowersValidationMse()
    {
        VectorSet train = SyntheticData.Generate(3000, D, seed: 1, latentDimension: 8);
        VectorSet validation = SyntheticData.Generate(400, D, seed: 2, latentDimension: 8);
        var qinco = Small().WithTraining(t => t.MaxEpochs(6).BatchSize(256).LearningRate(2e-3).Workers(2)).Build();
        qinco.Fit(train, validation);
        var rq = Quantizer.Residual(D).WithSteps(4).WithCodebookBits(5).WithBeamWidth(1).WithSeed(1234).WithThreads(2).Build();
        rq.Fit(train);
        double rqMse = Mse(validation, rq.Decode(rq.Encode(validation)));
        Assert.That(qinco.InitialValidationMse, Is.EqualTo(rqMse).Within(0.1).Percent, "zero-init model == its RQ initialisation");
        Assert.That(qinco.LastTraining!.BestValidationMetric, Is.LessThan(qinco.InitialValidationMse!.Value * 0.99));
        Assert.That(Mse(validation, qinco.Decode(qinco.Encode(validation))), Is.EqualTo(qinco.LastTraining.BestValidationMetric!.Value).Within(0.1).Percent);
    }

    [Test]
    public void TrainingSearch_EncodesTheBatches_WhileTheEncodersSearchValidatesAndIsKept()
    {
        VectorSet train = SyntheticData.Generate(1024, D, seed: 1, latentDimension: 8);
        VectorSet validation = SyntheticData.Generate(300, D, seed: 2, latentDimension: 8);
        var greedy = new EncoderSearch(1, 8);
        Func<QincoQuantizerBuilder, QincoQuantizerBuilder> oneEpoch = b => b.WithTraining(t => t.MaxEpochs(1).BatchSize(256).Workers(1).With(o => o with { ValidateInitialParameters = false }));
        QincoQuantizer trainedGreedy = oneEpoch(Small().WithEncoding(1, 8)).Build();
        QincoQuantizer trainedGreedyKeptBeam = oneEpoch(Small().WithEncoding(4, 8).WithTrainingSearch(greedy)).Build();
        trainedGreedy.Fit(train, validation);
        trainedGreedyKeptBeam.Fit(train, validation);

        // The same batches encoded by the same search give the same parameters, whatever search the model keeps.
        var asGreedy = (QincoQuantizer)trainedGreedyKeptBeam.WithSearch(greedy);
        Assert.That(asGreedy.Encode(validation).Data, Is.EqualTo(trainedGreedy.Encode(validation).Data));
        Assert.That(trainedGreedyKeptBeam.Search, Is.EqualTo(new EncoderSearch(4, 8)), "the encoder's search is the model's");
        // Validation measured the kept search (beam 4), not the training one.
        double keptMse = Mse(validation, trainedGreedyKeptBeam.Decode(trainedGreedyKeptBeam.Encode(validation)));
        Assert.That(trainedGreedyKeptBeam.LastTraining!.BestValidationMetric!.Value, Is.EqualTo(keptMse).Within(0.1).Percent);
        Assert.That(keptMse, Is.LessThan(Mse(validation, asGreedy.Decode(asGreedy.Encode(validation)))), "beam 4 beats greedy on the same parameters");
    }

    [Test]
    public void TwoWorkers_MatchOneWorkerUpToRounding_AndRunsRepeatExactly()
    {
        VectorSet train = SyntheticData.Generate(1024, D, seed: 1, latentDimension: 8);
        float[] one = TrainParameters(train, workers: 1);
        float[] two = TrainParameters(train, workers: 2);
        float[] twoAgain = TrainParameters(train, workers: 2);
        Assert.That(twoAgain, Is.EqualTo(two), "same seed and W give bit-identical parameters");
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < one.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(one[i] - two[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs(one[i]));
        }
        Assert.That(maxDiff, Is.LessThan(1e-4 * maxAbs));
        Assert.That(maxDiff, Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void Cancellation_KeepsTheBestModel_AndResumeMatchesAnUninterruptedRun()
    {
        VectorSet train = SyntheticData.Generate(1536, D, seed: 1, latentDimension: 8);
        VectorSet validation = SyntheticData.Generate(200, D, seed: 2, latentDimension: 8);
        VectorSet test = SyntheticData.Generate(50, D, seed: 3, latentDimension: 8);

        QincoQuantizer full = Small().WithTraining(t => t.MaxEpochs(3).BatchSize(256).Workers(2)).Build();
        full.Fit(train, validation);

        using var cts = new CancellationTokenSource();
        QincoQuantizer interrupted = Small().WithTraining(t => t.MaxEpochs(3).BatchSize(256).Workers(2)).Build();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Training is { Phase: TrainingPhase.EpochCompleted, Epoch: 0 })
            {
                cts.Cancel();
            }
        });
        interrupted.Fit(train, validation, progress, cts.Token);
        Assert.That(interrupted.LastTraining!.StopReason, Is.EqualTo(StopReason.Cancelled));
        Assert.That(interrupted.IsTrained, Is.True);
        Assert.That(interrupted.Encode(test).Data, Has.Length.EqualTo(50 * interrupted.CodeSize));

        var checkpointBytes = new System.IO.MemoryStream();
        interrupted.LastTraining.Checkpoint.Save(checkpointBytes);
        checkpointBytes.Position = 0;
        QincoQuantizer resumed = Small().WithTraining(t => t.MaxEpochs(3).BatchSize(256).Workers(2)).Build();
        resumed.ResumeFit(train, validation, TrainingCheckpoint.Load(checkpointBytes));
        Assert.That(resumed.LastTraining!.EpochsCompleted, Is.EqualTo(full.LastTraining!.EpochsCompleted));
        Assert.That(resumed.Encode(test).Data, Is.EqualTo(full.Encode(test).Data));
        Assert.That(resumed.Decode(resumed.Encode(test)).Data, Is.EqualTo(full.Decode(full.Encode(test)).Data));
    }

    [Test]
    public void Decode_GivesTheSameVectorsWithOneThreadOrMany()
    {
        VectorSet train = SyntheticData.Generate(1024, D, seed: 1, latentDimension: 8);
        QincoQuantizer q = Small().WithTraining(t => t.MaxEpochs(1).BatchSize(256)).Build();
        q.Fit(train, train.Slice(0, 128));
        byte[] codes = q.Encode(train).Data;
        var saved = new System.IO.MemoryStream();
        q.Save(saved);
        saved.Position = 0;
        IQuantizer single = Quantizer.Load(saved, maxDegreeOfParallelism: 1);
        Assert.That(single.Decode(codes).Data, Is.EqualTo(q.Decode(codes).Data));
        Assert.That(single.Decode(codes, steps: 2).Data, Is.EqualTo(q.Decode(codes, steps: 2).Data));
    }

    [Test]
    public void Builder_NamesTheInvalidOption()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Qinco(D).WithHiddenSize(0).Build())!.ParamName, Is.EqualTo("HiddenSize"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Qinco(D).WithResidualBlocks(-1).Build())!.ParamName, Is.EqualTo("ResidualBlocks"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Qinco(D).WithTraining(t => t.LearningRate(-1)).Build())!.ParamName, Is.EqualTo("LearningRate"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.Qinco(D).WithTraining(t => t.Workers(0)).Build())!.ParamName, Is.EqualTo("Workers"));
    }

    private static QincoQuantizerBuilder Small() =>
        Quantizer.Qinco(D).WithSteps(4).WithCodebookBits(5).WithResidualBlocks(2).WithHiddenSize(32).WithThreads(2)
            .WithEncoding(beamWidth: 1, candidates: 0).WithInitializationBeamWidth(1); // QINCo1: greedy, exhaustive

    private static float[] TrainParameters(VectorSet train, int workers)
    {
        QincoQuantizer q = Small().WithTraining(t => t.MaxEpochs(2).BatchSize(256).Workers(workers)).Build();
        q.Fit(train, train.Slice(0, 128));
        // Compare decoded codewords of a fixed code set: a function of every parameter.
        var codes = new byte[64 * q.CodeSize];
        var random = new Random(5);
        Span<int> indices = stackalloc int[q.Steps];
        for (int i = 0; i < 64; i++)
        {
            for (int m = 0; m < q.Steps; m++)
            {
                indices[m] = random.Next(1 << q.CodebookBits);
            }
            CodePacking.Pack(indices, q.Layout, codes.AsSpan(i * q.CodeSize, q.CodeSize));
        }
        return q.Decode(codes).Data;
    }

    /// <summary>A zero-initialised network on <paramref name="rq"/>'s codebooks: f(c, x̂) = c at every step.</summary>
    private static QincoStepShape Shape(int d, int k, int blocks, int hidden) => new(d, k, d, hidden, blocks, Projections: false, CodewordSkip: 0f, Preselection: false);

    private static QincoModel NetworkFrom(ResidualQuantizer rq, float scale)
    {
        QincoModel network = QincoModel.Zeros(Shape(D, rq.CodebookSize, blocks: 2, hidden: 24), rq.Steps, scale, mean: null);
        for (int m = 0; m < rq.Steps; m++)
        {
            float[] codebook = m == 0 ? network.Codebook0 : network.Step(m).Parameters.Codebook;
            ReadOnlySpan<float> source = rq.GetCodebook(m);
            for (int i = 0; i < codebook.Length; i++)
            {
                codebook[i] = source[i] / scale;
            }
        }
        network.InitializeLayers(zeroInit: true, seed: 9);
        return network;
    }

    private static QincoModel RandomNetwork(int seed)
    {
        QincoModel network = QincoModel.Zeros(Shape(D, 16, blocks: 2, hidden: 20), 3, scale: 1f, mean: null);
        var random = new Random(seed);
        foreach (ModelTensor tensor in network.Tensors)
        {
            float bound = tensor.Name.Contains("codebook", StringComparison.Ordinal) ? 1f : 0.3f;
            for (int i = 0; i < tensor.Values.Length; i++)
            {
                tensor.Values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
            }
        }
        return network;
    }

    private static double[][] Parameters(QincoModel network) => network.Tensors.Select(t => t.Values.Select(v => (double)v).ToArray()).ToArray();

    private static double[] Tensor(QincoModel network, double[][] p, string name)
    {
        for (int i = 0; i < network.Tensors.Count; i++)
        {
            if (network.Tensors[i].Name == name)
            {
                return p[i];
            }
        }
        throw new ArgumentException($"No tensor {name}.", nameof(name));
    }

    /// <summary>
    /// Σ_i Σ_m ||x_i − x̂_{i,m}||² / D (only the last m when <paramref name="finalStepOnly"/>), plus QINCo2's pre-selection
    /// term Σ_i Σ_m ||x_i − x̂_{i,m−1} − C̃_m[k]||² / D, in double, straight from the equations of ALGORITHM.md §1 and §5.
    /// </summary>
    /// <param name="network">The model (shapes).</param>
    /// <param name="p">The parameters the loss is taken at.</param>
    /// <param name="frozen">The parameters of the stop-gradient x̂ in the pre-selection term (the unperturbed ones).</param>
    /// <param name="x">Shape [n, D].</param>
    /// <param name="codes">Shape [n, M].</param>
    /// <param name="n">Vectors.</param>
    /// <param name="finalStepOnly">Whether only the last step's error counts.</param>
    private static double ReferenceLoss(QincoModel network, double[][] p, double[][] frozen, float[] x, int[] codes, int n, bool finalStepOnly)
    {
        int d = network.Dimension;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double[] xhat = new double[d], stopped = new double[d];
            for (int s = 0; s < network.Steps; s++)
            {
                int k = codes[i * network.Steps + s];
                if (s > 0 && network.StepShape.Preselection)
                {
                    double[] selection = Tensor(network, p, $"step{s}.preselection");
                    for (int j = 0; j < d; j++)
                    {
                        double diff = x[i * d + j] - stopped[j] - selection[k * d + j];
                        loss += diff * diff;
                    }
                }
                xhat = ReferenceStep(network, p, s, k, xhat);
                stopped = ReferenceStep(network, frozen, s, k, stopped);
                if (finalStepOnly && s != network.Steps - 1)
                {
                    continue;
                }
                for (int j = 0; j < d; j++)
                {
                    double diff = x[i * d + j] - xhat[j];
                    loss += diff * diff;
                }
            }
        }
        return loss / d;
    }

    /// <summary>x̂ after step s with code k: C_0[k] for s = 0, else x̂ + f_s(C_s[k], x̂) (§1.3, §5.1).</summary>
    private static double[] ReferenceStep(QincoModel network, double[][] p, int s, int k, double[] xhat)
    {
        QincoStepShape shape = network.StepShape;
        int d = shape.Dimension, de = shape.Embedding, h = shape.Hidden;
        double[] c = Tensor(network, p, s == 0 ? "codebook0" : $"step{s}.codebook").Skip(k * d).Take(d).ToArray();
        if (s == 0)
        {
            return c;
        }
        double[] e = shape.Projections ? Linear(Tensor(network, p, $"step{s}.in_proj"), c, de) : c;
        double[] w = Tensor(network, p, $"step{s}.concat.weight"), b = Tensor(network, p, $"step{s}.concat.bias");
        double[] z = Linear(w, [.. e, .. xhat], de);
        for (int o = 0; o < de; o++)
        {
            z[o] += b[o] + e[o];
        }
        for (int l = 0; l < network.Blocks; l++)
        {
            double[] a = Linear(Tensor(network, p, $"step{s}.block{l}.up"), z, h).Select(v => Math.Max(v, 0)).ToArray();
            double[] delta = Linear(Tensor(network, p, $"step{s}.block{l}.down"), a, de);
            z = z.Zip(delta, (zi, di) => zi + di).ToArray();
        }
        double[] f = shape.Projections ? Linear(Tensor(network, p, $"step{s}.out_proj"), z, d) : z;
        return Enumerable.Range(0, d).Select(j => xhat[j] + f[j] + (shape.CodewordSkip * c[j])).ToArray();
    }

    /// <summary>y = W·x for W [outputs, x.Length], in double.</summary>
    private static double[] Linear(double[] w, double[] x, int outputs) =>
        Enumerable.Range(0, outputs).Select(o => Enumerable.Range(0, x.Length).Sum(j => w[(o * x.Length) + j] * x[j])).ToArray();

    private static double Mse(VectorSet expected, VectorSet actual) => QuantizerEvaluation.MeanSquaredError(expected, actual);

    private sealed class SynchronousProgress(Action<FitProgress> report) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => report(value);
    }
}
