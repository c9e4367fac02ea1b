using System;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Search;

namespace Qinco.Tests.Search;

public sealed class QuantizerEvaluationTests
{
    [Test]
    public void SyntheticData_GivesPlausibleNumbers()
    {
        const int d = 32;
        VectorSet train = SyntheticData.Generate(3000, d, seed: 1, distributionSeed: 7);
        VectorSet database = SyntheticData.Generate(2000, d, seed: 2, distributionSeed: 7);
        VectorSet queries = SyntheticData.Generate(100, d, seed: 3, distributionSeed: 7);
        Matrix<long> truth = FlatSearch.Search(database, queries, 1, 2).Ids;

        var rq = Quantizer.Residual(d).WithSteps(4).WithCodebookBits(6).WithBeamWidth(2).WithSeed(3).WithThreads(2).Build();
        rq.Fit(train);
        EvaluationReport report = QuantizerEvaluation.Evaluate(rq, database, queries, truth, maxDegreeOfParallelism: 2);

        double energy = 0;
        double[] mean = new double[d];
        for (int i = 0; i < database.Count; i++)
        {
            for (int j = 0; j < d; j++)
            {
                mean[j] += database[i][j] / (double)database.Count;
            }
        }
        for (int i = 0; i < database.Count; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double diff = database[i][j] - mean[j];
                energy += diff * diff / database.Count;
            }
        }
        Assert.That(report.Mse, Is.GreaterThan(0).And.LessThan(0.5 * energy), "RQ removes most of the variance");
        Assert.That(report.Mse, Is.EqualTo(QuantizerEvaluation.MeanSquaredError(database, rq.Decode(rq.Encode(database)))).Within(1e-9).Percent);
        Assert.That(report.RecallAt1, Is.Not.Null);
        Assert.That(report.RecallAt100!.Value, Is.GreaterThanOrEqualTo(report.RecallAt10!.Value));
        Assert.That(report.RecallAt10!.Value, Is.GreaterThanOrEqualTo(report.RecallAt1!.Value));
        Assert.That(report.RecallAt1!.Value, Is.InRange(0.0, 1.0));
        Assert.That(report.RecallAt100!.Value, Is.GreaterThan(0.5), "the true neighbour is usually among the first 100 of 2000");
        Assert.That(report.EncodeMicrosecondsPerVector, Is.GreaterThan(0));
        Assert.That(report.DecodeMicrosecondsPerVector, Is.GreaterThan(0));
        Assert.That(report.Threads, Is.EqualTo(2));
        Assert.That(report.Vectors, Is.EqualTo(2000));
        Assert.That(report.CodeSize, Is.EqualTo(rq.CodeSize));
        Assert.That(report.Method, Does.StartWith("RQ beam 2"));
    }

    [Test]
    public void WithoutQueries_RecallIsNull()
    {
        VectorSet train = SyntheticData.Generate(500, 8, seed: 1);
        var rq = Quantizer.Residual(8).WithSteps(2).WithCodebookBits(4).Build();
        rq.Fit(train);
        EvaluationReport report = QuantizerEvaluation.Evaluate(rq, train, method: "mine");
        Assert.That(report.RecallAt1, Is.Null);
        Assert.That(report.RecallAt10, Is.Null);
        Assert.That(report.RecallAt100, Is.Null);
        Assert.That(report.Method, Is.EqualTo("mine"));
    }

    [Test]
    public void Validation_NamesTheProblem()
    {
        VectorSet train = SyntheticData.Generate(500, 8, seed: 1);
        var rq = Quantizer.Residual(8).WithSteps(2).WithCodebookBits(4).Build();
        Assert.Throws<ArgumentException>(() => QuantizerEvaluation.Evaluate(rq, train), "untrained");
        rq.Fit(train);
        Assert.Throws<ArgumentException>(() => QuantizerEvaluation.Evaluate(rq, SyntheticData.Generate(5, 9, seed: 1)));
        Assert.Throws<ArgumentException>(() => QuantizerEvaluation.Evaluate(rq, train, queries: train));
        var truth = new Matrix<long>(3, 1);
        truth[1, 0] = 500;
        var ex = Assert.Throws<ArgumentException>(() => QuantizerEvaluation.Evaluate(rq, train, train.Slice(0, 3), truth));
        Assert.That(ex!.Message, Does.Contain("500"));
        Assert.Throws<ArgumentException>(() => QuantizerEvaluation.Evaluate(rq, train, train.Slice(0, 4), truth));
    }
}
