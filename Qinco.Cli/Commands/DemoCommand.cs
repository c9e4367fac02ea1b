using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Qinco.Core;
using Qinco.Search;

namespace Qinco.Cli.Commands;

/// <summary>
/// <c>qinco demo</c>: generates a structured synthetic data set in memory, trains greedy RQ, RQ with beam search and
/// a small QINCo on it, and prints their MSE, recall and speed side by side.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's data and model sizes.</summary>
    internal sealed record Plan(
        int Dimension, int Train, int Validation, int Database, int Queries,
        int Steps, int CodebookBits, int QincoBlocks, int QincoHidden, int QincoEpochs, TimeSpan QincoBudget, int QincoTrain, double QincoLearningRate = 1e-4, int QincoBatch = 256);

    /// <summary>The default demo: 5,000 train + 500 validation, 5,000 database, 200 queries at d = 64; 8 bytes per vector.</summary>
    internal static readonly Plan Full = new(64, 5_000, 500, 5_000, 200, 8, 8, 1, 64, 10, TimeSpan.FromSeconds(15), 5_000);

    /// <summary>The <c>--quick</c> demo: a few seconds.</summary>
    internal static readonly Plan Quick = new(32, 2_000, 300, 1_000, 50, 4, 6, 1, 32, 2, TimeSpan.FromSeconds(5), 2_000);

    public static Command Create(CliContext context)
    {
        var threads = CliOptions.Threads();
        var quick = new Option<bool>("--quick") { Description = "A much smaller data set and models (a few seconds)." };
        var command = new Command("demo", "Train and compare RQ (greedy), RQ (beam 5) and a small QINCo on synthetic data; prints a table.");
        command.Options.Add(threads);
        command.Options.Add(quick);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
            Run(context, parse.GetValue(quick) ? Quick : Full, parse.GetValue(threads))));
        return command;
    }

    internal static int Run(CliContext context, Plan plan, int threads)
    {
        var total = Stopwatch.StartNew();
        int d = plan.Dimension;
        const int distributionSeed = 2024;
        Log(context, total, string.Create(CultureInfo.InvariantCulture,
            $"generating synthetic data (d = {d}): {plan.Train} train, {plan.Validation} validation, {plan.Database} database, {plan.Queries} queries"));
        VectorSet train = SyntheticData.Generate(plan.Train, d, seed: 1, distributionSeed: distributionSeed);
        VectorSet validation = SyntheticData.Generate(plan.Validation, d, seed: 2, distributionSeed: distributionSeed);
        VectorSet database = SyntheticData.Generate(plan.Database, d, seed: 3, distributionSeed: distributionSeed);
        VectorSet queries = SyntheticData.Generate(plan.Queries, d, seed: 4, distributionSeed: distributionSeed);
        Log(context, total, "exact ground truth (flat search on the raw database)");
        Matrix<long> truth = FlatSearch.Search(database, queries, 1, threads).Ids;

        int workers = threads == -1 ? Environment.ProcessorCount : threads;
        var candidates = new List<(string Name, IQuantizer Quantizer, VectorSet Train)>
        {
            ("RQ greedy", Quantizer.Residual(d).WithSteps(plan.Steps).WithCodebookBits(plan.CodebookBits).WithBeamWidth(1).WithThreads(threads).Build(), train),
            ("RQ beam 5", Quantizer.Residual(d).WithSteps(plan.Steps).WithCodebookBits(plan.CodebookBits).WithBeamWidth(5).WithThreads(threads).Build(), train),
            (string.Create(CultureInfo.InvariantCulture, $"QINCo L={plan.QincoBlocks} h={plan.QincoHidden}"),
                Quantizer.Qinco(d).WithSteps(plan.Steps).WithCodebookBits(plan.CodebookBits)
                    .WithResidualBlocks(plan.QincoBlocks).WithHiddenSize(plan.QincoHidden).WithZeroInitialization(true)
                    .WithThreads(threads)
                    .WithTraining(t => t.MaxEpochs(plan.QincoEpochs).MaxDuration(plan.QincoBudget).Workers(workers).BatchSize(plan.QincoBatch).LearningRate(plan.QincoLearningRate))
                    .Build(),
                train.Slice(0, Math.Min(plan.QincoTrain, train.Count))),
        };

        var reports = new List<EvaluationReport>();
        var trainSeconds = new List<double>();
        foreach (var (name, quantizer, trainSet) in candidates)
        {
            Log(context, total, $"training {name}");
            var watch = Stopwatch.StartNew();
            quantizer.Fit(trainSet, validation, new ProgressPrinter(context.Error, "         ", TimeSpan.FromSeconds(2)), context.CancellationToken);
            trainSeconds.Add(watch.Elapsed.TotalSeconds);
            Log(context, total, string.Create(CultureInfo.InvariantCulture, $"evaluating {name} (trained in {watch.Elapsed.TotalSeconds:F1} s)"));
            // With little data the network may not beat its RQ start; the trainer then keeps the start, and the row says so.
            string label = quantizer is QincoQuantizer { LastTraining.BestEpoch: null } ? name + " (kept its RQ start)" : name;
            reports.Add(QuantizerEvaluation.Evaluate(quantizer, database, queries, truth, threads, label));
        }

        context.Console.Write(ReportOutput.ToTable(reports, trainSeconds));
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{plan.Database} database vectors of dimension {d} ({4 * d} bytes raw), {plan.Queries} queries; M = {plan.Steps}, K = {1 << plan.CodebookBits}; R@k = percentage of queries whose true nearest neighbour is in the top k over the decoded database; total {total.Elapsed.TotalSeconds:F1} s."));
        return CliApp.Success;
    }

    private static void Log(CliContext context, Stopwatch total, string message)
    {
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{total.Elapsed.TotalSeconds,6:F1}s] {message}"));
        context.Error.Flush();
    }
}
