using System.CommandLine;
using System.Globalization;
using Qinco.Core;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco export</c>: writes a QINCo or IVF-QINCo model as a safetensors state dict in the reference's key names.</summary>
internal static class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var model = CliOptions.File("--model", "The QINCo or IVF-QINCo model file.", required: true);
        model.HelpName = "MODEL";
        var output = CliOptions.File("--out", "Where to write the state dict (.safetensors, F32 tensors under the reference's keys; the hyper-parameters in its metadata).", required: true);
        output.HelpName = "MODEL.safetensors";

        var command = new Command("export", "Export a QINCo / IVF-QINCo model as a safetensors state dict that the PyTorch reference loads.");
        command.Options.Add(model);
        command.Options.Add(output);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            IQuantizer quantizer = Quantizer.Load(parse.GetRequiredValue(model));
            ReferenceCheckpoint checkpoint = ReferenceCheckpoint.FromQuantizer(quantizer);
            string outPath = parse.GetRequiredValue(output);
            checkpoint.WriteSafetensors(outPath);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"exported {checkpoint.Format}: {checkpoint.Tensors.Count} tensors; wrote {outPath}"));
            return CliApp.Success;
        }));
        return command;
    }
}
