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
        var model = CliOptions.File("--model", "The model file that wrote the codes.", required: true);
        model.HelpName = "MODEL";
        var codesOption = CliOptions.File("--codes", "The codes: a 2-D uint8 .npy written by 'qinco encode'.", required: true);
        codesOption.HelpName = "CODES.npy";
        var steps = CliOptions.Int("--steps", "Decode only the first m steps of each code (a coarser reconstruction; 0 gives the IVF centroid, or zeros); default: all.", null, min: 0);
        var output = CliOptions.File("--out", "Where to write the vectors (.fvecs or .npy, by extension).", required: true);
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
            OutputPath.RequireWritable(outPath, "--out", ".fvecs", ".npy");
            string modelPath = parse.GetRequiredValue(model), codesPath = parse.GetRequiredValue(codesOption);
            IQuantizer quantizer = Quantizer.Load(modelPath, parse.GetValue(threads));
            CodeSet codes = VectorFile.ReadCodes(codesPath, quantizer.Layout);
            CodeProvenance.Check(codesPath, modelPath, parse.GetValue(trust));
            int? m = CliOptions.ValueIfGiven(parse, steps);
            if (m > quantizer.Steps)
            {
                throw new CliException($"--steps {m} exceeds the model's {quantizer.Steps} steps.");
            }
            VectorSet vectors = quantizer.Decode(codes, m);
            VectorFile.Write(outPath, vectors);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"decoded {vectors.Count} vectors of dimension {vectors.Dimension}{(m is null ? string.Empty : $" from the first {m} steps")}; wrote {outPath}"));
            return CliApp.Success;
        }));
        return command;
    }
}
