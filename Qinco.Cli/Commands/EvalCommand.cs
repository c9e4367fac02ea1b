using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Search;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco eval</c>: MSE, encode/decode speed and recall of a saved model on a database.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = PathOptions.Input("--model", "The model file to evaluate.", required: true, "model", "MODEL");
        var baseFile = PathOptions.Input("--base", "Database vectors to encode, decode and search.", required: true, "vector");
        var baseRows = CliOptions.Rows("--base-rows", "Rows of --base forming the database.");
        var queries = PathOptions.Input("--queries", "Query vectors for recall (needs --groundtruth).", required: false, "vector");
        var groundTruth = PathOptions.Input("--groundtruth", "Each query's true neighbours (.ivecs or int .npy), ids counted from the first row of the base range.", required: false, "ground-truth");
        var threads = CliOptions.Threads();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        // No defaults: absent means "the model's own search".
        var beam = CliOptions.Int("--beam", "Encode with this beam width instead of the model's own (codes stay decodable by the model).", null);
        var candidates = CliOptions.Int("--candidates", "qinco: encode with this many pre-selected codewords per beam instead of the model's own (0 = all K).", null);
        var probedLists = CliOptions.Int("--probed-lists", "ivf-qinco: start the encoder's beams from this many nearest lists instead of the model's own (codes stay decodable by the model).", null);

        var command = new Command("eval", "Evaluate a model: reconstruction MSE, encode/decode time and 1-recall@1/10/100.");
        command.Options.Add(model);
        command.Options.Add(baseFile);
        command.Options.Add(baseRows);
        command.Options.Add(queries);
        command.Options.Add(groundTruth);
        command.Options.Add(threads);
        command.Options.Add(json);
        command.Options.Add(beam);
        command.Options.Add(candidates);
        command.Options.Add(probedLists);
        command.Validators.Add(result =>
        {
            if (CliOptions.IsGiven(result, queries) != CliOptions.IsGiven(result, groundTruth))
            {
                result.AddError("--queries and --groundtruth go together: give both or neither.");
            }

        });
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            int threadCount = parse.GetValue(threads);
            int? beamWidth = CliOptions.ValueIfGiven(parse, beam), candidateCount = CliOptions.ValueIfGiven(parse, candidates);
            var flags = new Dictionary<string, string>(StringComparer.Ordinal) { ["BeamWidth"] = "--beam", ["Candidates"] = "--candidates" };
            CliOptions.ValidateWithLibrary(flags, () => { new EncoderSearch(beamWidth ?? 1, candidateCount ?? 0).Validate(); return true; }); // before loading anything
            IQuantizer quantizer = WithProbedLists(WithSearch(Quantizer.Load(parse.GetRequiredValue(model), threadCount),
                beamWidth, candidateCount), CliOptions.ValueIfGiven(parse, probedLists));
            VectorSet database = VectorFile.Read(parse.GetRequiredValue(baseFile), parse.GetValue(baseRows));
            if (database.Dimension != quantizer.Dimension)
            {
                throw new CliException($"the base vectors have dimension {database.Dimension}, but the model was trained on dimension {quantizer.Dimension}.");
            }
            VectorSet? querySet = null;
            Matrix<long>? truth = null;
            string? queryPath = parse.GetValue(queries);
            if (queryPath is not null)
            {
                querySet = VectorFile.Read(queryPath);
                truth = VectorFile.ReadLongMatrix(parse.GetRequiredValue(groundTruth));
                if (querySet.Dimension != database.Dimension)
                {
                    throw new CliException($"the queries have dimension {querySet.Dimension}, the base vectors {database.Dimension}.");
                }
                if (truth.Rows != querySet.Count)
                {
                    throw new CliException($"the ground truth has {truth.Rows} rows but there are {querySet.Count} queries.");
                }
            }

            EvaluationReport report = QuantizerEvaluation.Evaluate(quantizer, database, querySet, truth, threadCount);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(ReportOutput.ToJson(report));
            }
            else
            {
                context.Console.Write(ReportOutput.ToTable([report]));
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{report.Vectors} vectors, {report.Threads} threads; R@k is the percentage of queries whose true nearest neighbour is in the top k of an exact search over the decoded vectors (--json gives it as a share, 0..1)."));
            }
            return CliApp.Success;
        }, parse));
        return command;
    }

    private static IQuantizer WithProbedLists(IQuantizer quantizer, int? probedLists)
    {
        if (probedLists is not { } lists)
        {
            return quantizer;
        }
        if (quantizer is not IvfQincoQuantizer ivf)
        {
            throw new CliException($"--probed-lists applies to ivf-qinco models only; {quantizer.Description} has no lists.");
        }
        try
        {
            return ivf.WithProbedLists(lists);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliException($"--probed-lists {lists}: {CommandRunner.StripParameter(ex)}");
        }
    }

    private static IQuantizer WithSearch(IQuantizer quantizer, int? beam, int? candidates)
    {
        if (beam is null && candidates is null)
        {
            return quantizer;
        }
        try
        {
            return quantizer.WithSearch(new EncoderSearch(beam ?? quantizer.Search.BeamWidth, candidates ?? quantizer.Search.Candidates));
        }
        catch (ArgumentOutOfRangeException ex) when (ex.ParamName == nameof(EncoderSearch.Candidates))
        {
            throw new CliException($"--candidates applies to qinco models only; {quantizer.Description} scores every codeword.");
        }
    }
}
