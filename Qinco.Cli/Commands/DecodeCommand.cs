using System;
using System.CommandLine;
using System.Globalization;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco decode</c>: reconstructs vectors from a uint8 .npy of codes.</summary>
internal static class DecodeCommand
{
    public static Command Create(CliContext context)
    {
        var model = PathOptions.Input("--model", "The model file that wrote the codes.", required: true, "model", "MODEL");
        var codesOption = PathOptions.Input("--codes", "The codes: a 2-D uint8 .npy written by 'qinco encode'.", required: true, "codes", "CODES.npy");
        var steps = CliOptions.Int("--steps", "Decode only the first m steps of each code (a coarser reconstruction; 0 gives the IVF centroid, or zeros); default: all.", null, min: 0);
        var output = PathOptions.Output("--out", "Where to write the vectors (.fvecs or .npy, by extension).", required: true, "FILE", ".fvecs", ".npy");
        var threads = CliOptions.Threads();
        var trust = new Option<bool>("--trust-codes") { Description = "Decode codes that have no model record beside them (codes not written by 'qinco encode'); codes whose record names another model are refused regardless." };

        var command = new Command("decode", "Decode codes back into vectors.");
        command.Options.Add(trust);
        command.Options.Add(model);
        command.Options.Add(codesOption);
        command.Options.Add(steps);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            string outPath = parse.GetRequiredValue(output);
            string modelPath = parse.GetRequiredValue(model), codesPath = parse.GetRequiredValue(codesOption);
            IQuantizer quantizer = Quantizer.Load(modelPath, parse.GetValue(threads));
            VectorFile.ReadCodes(codesPath, quantizer.Layout, new RowRange(0, 0)); // the file's code size against the model's, before anything else
            CodeProvenance.Check(codesPath, modelPath, VectorFile.GetInfo(codesPath).Rows, parse.GetValue(trust));
            int? m = CliOptions.ValueIfGiven(parse, steps);
            if (m > quantizer.Steps)
            {
                throw new CliException($"--steps {m} exceeds the model's {quantizer.Steps} steps.");
            }
            long count;
            try
            {
                // One chunk of codes and vectors in memory at a time; the output appears only when complete.
                count = quantizer.DecodeFile(codesPath, outPath, m, new ProgressPrinter(context.Error, "  ", TimeSpan.FromSeconds(1), "decoding"), context.CancellationToken);
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                context.Error.WriteLine($"interrupted: {outPath} was not written.");
                return CliApp.Interrupted;
            }
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"decoded {count} vectors of dimension {quantizer.Dimension}{(m is null ? string.Empty : $" from the first {m} steps")}; wrote {outPath}"));
            return CliApp.Success;
        }, parse));
        return command;
    }
}
