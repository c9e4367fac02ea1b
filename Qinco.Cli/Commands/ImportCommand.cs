using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using Qinco.Core;
using Qinco.Interop;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco import</c>: converts a model trained by the QINCo1 reference (PyTorch) into a Qinco model file.</summary>
internal static class ImportCommand
{
    public static Command Create(CliContext context)
    {
        var from = CliOptions.File("--from", "The reference's model: a .pt written by torch.save(model) (QINCo1 or IVF-QINCo1), or a .safetensors written by 'qinco export'.", required: true);
        from.HelpName = "MODEL.pt";
        var output = CliOptions.File("--out", "Where to write the Qinco model file.", required: true);
        output.HelpName = "MODEL";
        var threads = CliOptions.Threads();

        var command = new Command("import", "Import a QINCo1 / IVF-QINCo1 model trained with the PyTorch reference (no Python needed).");
        command.Options.Add(from);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            string path = parse.GetRequiredValue(from);
            ReferenceCheckpoint checkpoint = Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase)
                ? ReferenceCheckpoint.ReadSafetensors(path)
                : PyTorchCheckpoint.Load(path).ToReferenceCheckpoint();
            IQuantizer quantizer = Quantizer.FromReference(checkpoint, parse.GetValue(threads));
            string outPath = parse.GetRequiredValue(output);
            quantizer.Save(outPath);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"imported {checkpoint.Format} {quantizer.Description}, {quantizer.CodeSize} bytes per code; wrote {outPath}"));
            return CliApp.Success;
        }));
        return command;
    }
}
