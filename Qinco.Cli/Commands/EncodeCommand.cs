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
        var model = CliOptions.File("--model", "The model file written by 'qinco train'.", required: true);
        model.HelpName = "MODEL";
        var input = CliOptions.File("--input", "Vectors to encode (.fvecs, .bvecs or .npy).", required: true);
        var rows = CliOptions.Rows("--rows", "Rows of --input to encode.");
        var output = CliOptions.File("--out", "Where to write the codes: a 2-D uint8 .npy of shape [vectors, code size] (plus CODES.npy.model.json, the record of the model).", required: true);
        output.HelpName = "CODES.npy";
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
            OutputPath.RequireWritable(outPath, "--out", ".npy");
            string modelPath = parse.GetRequiredValue(model);
            IQuantizer quantizer = Quantizer.Load(modelPath, parse.GetValue(threads));
            VectorSet vectors = VectorFile.Read(parse.GetRequiredValue(input), parse.GetValue(rows));
            if (vectors.Dimension != quantizer.Dimension)
            {
                throw new CliException($"the input vectors have dimension {vectors.Dimension}, but the model was trained on dimension {quantizer.Dimension}.");
            }
            VectorFile.WriteCodes(outPath, quantizer.Encode(vectors));
            CodeProvenance.Write(outPath, modelPath, quantizer, vectors.Count);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"encoded {vectors.Count} vectors into {quantizer.CodeSize} bytes each; wrote {outPath} and its model record {CodeProvenance.RecordPath(outPath)}"));
            return CliApp.Success;
        }));
        return command;
    }
}
