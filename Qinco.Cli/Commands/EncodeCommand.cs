using System;
using System.CommandLine;
using System.Globalization;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco encode</c>: compresses vectors with a saved model into a uint8 .npy of codes.</summary>
internal static class EncodeCommand
{
    public static Command Create(CliContext context)
    {
        var model = PathOptions.Input("--model", "The model file written by 'qinco train'.", required: true, "model", "MODEL");
        var input = PathOptions.Input("--input", "Vectors to encode (.fvecs, .bvecs or .npy).", required: true, "vector");
        var rows = CliOptions.Rows("--rows", "Rows of --input to encode.");
        var output = PathOptions.Output("--out", "Where to write the codes: a 2-D uint8 .npy of shape [vectors, code size] (plus CODES.npy.model.json, the record of the model).", required: true, "CODES.npy", ".npy");
        var threads = CliOptions.Threads();

        var command = new Command("encode", "Encode vectors into compact codes.");
        command.Options.Add(model);
        command.Options.Add(input);
        command.Options.Add(rows);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            string outPath = parse.GetRequiredValue(output);
            string modelPath = parse.GetRequiredValue(model);
            IQuantizer quantizer = Quantizer.Load(modelPath, parse.GetValue(threads));
            string inputPath = parse.GetRequiredValue(input);
            int dimension = VectorFile.GetInfo(inputPath).Dimension;
            if (dimension != quantizer.Dimension)
            {
                throw new CliException($"the input vectors have dimension {dimension}, but the model was trained on dimension {quantizer.Dimension}.");
            }
            long count;
            try
            {
                // One chunk of vectors and codes in memory at a time; the codes file appears only when complete.
                count = quantizer.EncodeFile(inputPath, outPath, parse.GetValue(rows), new ProgressPrinter(context.Error, "  ", TimeSpan.FromSeconds(1), "encoding"), context.CancellationToken);
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                context.Error.WriteLine($"interrupted: {outPath} was not written.");
                return CliApp.Interrupted;
            }
            CodeProvenance.Write(outPath, modelPath, quantizer, count);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"encoded {count} vectors into {quantizer.CodeSize} bytes each; wrote {outPath} and its model record {CodeProvenance.RecordPath(outPath)}"));
            return CliApp.Success;
        }, parse));
        return command;
    }
}
