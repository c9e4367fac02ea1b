using System;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json;
using Qinco.Core;

namespace Qinco.Cli.Commands;

/// <summary>
/// Which model wrote a codes file: <c>qinco encode</c> writes, beside <c>codes.npy</c> (left as a plain NumPy
/// array), <c>codes.npy.model.json</c> with the SHA-256 of the model file; <c>qinco decode</c> refuses codes whose
/// record names another model, so codes are never decoded by a model with the same code size but other codebooks.
/// </summary>
internal static class CodeProvenance
{
    public static string RecordPath(string codesPath) => codesPath + ".model.json";

    /// <summary>The SHA-256 of a model file, in hex: its identity (saving a model is deterministic).</summary>
    public static string Fingerprint(string modelPath)
    {
        using FileStream stream = File.OpenRead(modelPath);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    /// <summary>Writes the record of <paramref name="codesPath"/> (atomically enough: written after the codes).</summary>
    public static void Write(string codesPath, string modelPath, IQuantizer quantizer, long count)
    {
        var record = new Record(Fingerprint(modelPath), Path.GetFileName(modelPath), quantizer.Description, quantizer.CodeSize, count);
        File.WriteAllText(RecordPath(codesPath), JsonSerializer.Serialize(record, RecordContext.Default.Record));
    }

    /// <summary>
    /// Throws <see cref="CliException"/> unless the record beside <paramref name="codesPath"/> names the model at
    /// <paramref name="modelPath"/> and the <paramref name="rows"/> codes the file holds now (a codes file cut short,
    /// appended to or replaced after encoding no longer matches its record); codes without a record pass only when
    /// <paramref name="trustUnrecorded"/>.
    /// </summary>
    public static void Check(string codesPath, string modelPath, long rows, bool trustUnrecorded)
    {
        string recordPath = RecordPath(codesPath);
        if (!File.Exists(recordPath))
        {
            if (trustUnrecorded)
            {
                return;
            }
            throw new CliException($"{codesPath} has no record of the model that wrote it ({Path.GetFileName(recordPath)}, written by 'qinco encode'); decoding with another model gives garbage. Pass --trust-codes if these codes come from {modelPath}.");
        }
        Record? record;
        try
        {
            record = JsonSerializer.Deserialize(File.ReadAllText(recordPath), RecordContext.Default.Record);
        }
        catch (JsonException ex)
        {
            throw new CliException($"{recordPath} is not a valid codes record: {ex.Message}");
        }
        string actual = Fingerprint(modelPath);
        if (record is null || !string.Equals(record.ModelSha256, actual, StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"{codesPath} was written by another model ({record?.Model ?? "unknown"}, {record?.Description}, SHA-256 {Short(record?.ModelSha256)}), not by {modelPath} (SHA-256 {Short(actual)}); decode it with that model.");
        }
        if (record.Count != rows)
        {
            throw new CliException($"{codesPath} holds {rows} codes but its record ({Path.GetFileName(recordPath)}) says 'qinco encode' wrote {record.Count}: the file was changed after encoding. Encode again, or pass --trust-codes after deleting the record if these codes are right.");
        }
    }

    private static string Short(string? hash) => hash is { Length: > 12 } ? hash[..12] + "…" : hash ?? "none";

    internal sealed record Record(string ModelSha256, string Model, string Description, int CodeSize, long Count);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(CodeProvenance.Record))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class RecordContext : System.Text.Json.Serialization.JsonSerializerContext
{
}
