using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using Qinco.Core;
using Qinco.Interop;

namespace Qinco.Cli.Commands;

/// <summary>
/// <c>qinco import</c> converts a model trained by the QINCo reference (PyTorch: QINCo1 modules, QINCo2 dict
/// checkpoints) into a Qinco model file; <c>qinco export</c> writes a QINCo or IVF-QINCo model (QINCo1 or QINCo2) as a
/// safetensors state dict in the reference's key names.
/// </summary>
internal static class ReferenceCommands
{
    public static Command Import(CliContext context)
    {
        Option<string> from = PathOptions.Input("--from", "The reference's model: a .pt (QINCo1 / IVF-QINCo1: torch.save(model); QINCo2 / IVF-QINCo2: the checkpoint dict), or a .safetensors written by 'qinco export'.", required: true, "checkpoint", "MODEL.pt");
        Option<string> output = PathOptions.Output("--out", "Where to write the Qinco model file (.qinco).", required: true, "MODEL.qinco", ".qinco");
        Option<int> threads = CliOptions.Threads();
        Command command = CliOptions.Command("import", "Import a QINCo1 / QINCo2 model (IVF or not) trained with the PyTorch reference (no Python needed).", from, output, threads);
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
        }, parse));
        return command;
    }

    public static Command Export(CliContext context)
    {
        Option<string> model = PathOptions.Input("--model", "The QINCo or IVF-QINCo model file.", required: true, "model", "MODEL");
        Option<string> output = PathOptions.Output("--out", "Where to write the state dict (.safetensors, F32 tensors under the reference's keys; the hyper-parameters in its metadata).", required: true, "MODEL.safetensors", ".safetensors");
        Command command = CliOptions.Command("export", "Export a QINCo / IVF-QINCo model (QINCo1 or QINCo2) as a safetensors state dict that the PyTorch reference loads.", model, output);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            ReferenceCheckpoint checkpoint = ReferenceCheckpoint.FromQuantizer(Quantizer.Load(parse.GetRequiredValue(model)));
            string outPath = parse.GetRequiredValue(output);
            checkpoint.WriteSafetensors(outPath);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {checkpoint.Format}: {checkpoint.Tensors.Count} tensors; wrote {outPath}"));
            return CliApp.Success;
        }, parse));
        return command;
    }
}
