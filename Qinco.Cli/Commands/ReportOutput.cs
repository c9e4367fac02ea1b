using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using Qinco.Search;
using Spectre.Console;

namespace Qinco.Cli.Commands;

/// <summary>Renders <see cref="EvaluationReport"/>s as JSON or as a Spectre table.</summary>
internal static class ReportOutput
{
    /// <summary>One JSON object: method, mse, r_at_1, r_at_10, r_at_100 (null without queries), encode_us_per_vector, decode_us_per_vector, threads.</summary>
    public static string ToJson(EvaluationReport report)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("method", report.Method);
            json.WriteNumber("mse", report.Mse);
            WriteNullable(json, "r_at_1", report.RecallAt1);
            WriteNullable(json, "r_at_10", report.RecallAt10);
            WriteNullable(json, "r_at_100", report.RecallAt100);
            json.WriteNumber("encode_us_per_vector", report.EncodeMicrosecondsPerVector);
            json.WriteNumber("decode_us_per_vector", report.DecodeMicrosecondsPerVector);
            json.WriteNumber("threads", report.Threads);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A table of reports, one row each; <paramref name="trainSeconds"/> adds a training-time column when given.</summary>
    public static Table ToTable(IReadOnlyList<EvaluationReport> reports, IReadOnlyList<double>? trainSeconds = null)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("method");
        foreach (string column in new[] { "bytes/vec", "MSE", "R@1 %", "R@10 %", "R@100 %", "encode us/vec", "decode us/vec" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        if (trainSeconds is not null)
        {
            table.AddColumn(new TableColumn("train s").RightAligned());
        }
        for (int i = 0; i < reports.Count; i++)
        {
            EvaluationReport r = reports[i];
            var cells = new List<string>
            {
                Markup.Escape(r.Method),
                F(r.CodeSize, "D"),
                F(r.Mse, "G5"),
                Recall(r.RecallAt1),
                Recall(r.RecallAt10),
                Recall(r.RecallAt100),
                F(r.EncodeMicrosecondsPerVector, "F1"),
                F(r.DecodeMicrosecondsPerVector, "F2"),
            };
            if (trainSeconds is not null)
            {
                cells.Add(F(trainSeconds[i], "F1"));
            }
            table.AddRow(cells.ToArray());
        }
        return table;
    }

    /// <summary>Recall as a percentage, as the README's tables give it (JSON keeps the share 0..1).</summary>
    private static string Recall(double? value) => value is double v ? F(100 * v, "F1") : "-";

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string F(int value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Writes a number, or null.</summary>
    internal static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is double v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
