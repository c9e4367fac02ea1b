using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using Qinco.Core;
using Qinco.Search;
using Spectre.Console;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco tune</c>: sweeps nprobe x shortlist and keeps the Pareto-optimal (R@1, µs/query) operating points.</summary>
internal static class TuneCommand
{
    public static Command Create(CliContext context)
    {
        var shared = new SearchOptions();
        var nprobes = IntList("--nprobe", "nprobe values to try, comma-separated (values above the list count scan every list).", "1,4,16,64,256", min: 1);
        var shortlists = IntList("--shortlist", "Shortlist sizes to try, comma-separated (0 keeps all).", "10,20,50,100,200,500,1000", min: 0);
        var middles = IntList("--middle-shortlist", "Middle-stage sizes to try (0: none; others need an index built with --pairwise).", "0", min: 0);
        var plot = PathOptions.Output("--plot", "Write the curve (every point and the Pareto front, R@1 against us/query) as an SVG.", required: false, "FILE.svg", ".svg");
        var command = new Command("tune", "Sweep nprobe x shortlist; print the Pareto-optimal operating points (R@1 against us/query) and plot them.");
        shared.AddTo(command, nprobes, shortlists, middles, plot);
        command.Validators.Add(result =>
        {
            if (!CliOptions.IsGiven(result, shared.GroundTruth))
            {
                result.AddError("tune needs --groundtruth: it ranks operating points by R@1.");
            }
        });
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            (IvfIndex index, VectorSet queries, Matrix<long>? truth) = shared.Load(parse);
            var points = new List<SearchMeasurement>();
            bool warm = false;
            foreach (int p in parse.GetValue(nprobes)!.Select(p => Math.Min(p, index.ListCount)).Distinct().OrderBy(p => p))
            {
                foreach ((int s, int mid) in parse.GetValue(shortlists)!.Distinct().OrderBy(s => s == 0 ? int.MaxValue : s)
                    .SelectMany(s => parse.GetValue(middles)!.Distinct().Where(mid => mid == 0 || (s != 0 && mid > s)).Select(mid => (s, mid))))
                {
                    if (!warm)
                    {
                        // One untimed pass first: JIT compilation and cold caches would otherwise slow only the first point.
                        SearchCommand.Measure(index, queries, truth, shared.K(parse), p, s, mid, shared.Threads(parse), 1, shared.Rerank(parse), out _);
                        warm = true;
                    }
                    SearchMeasurement m = SearchCommand.Measure(index, queries, truth, shared.K(parse), p, s, mid, shared.Threads(parse), shared.Repeat(parse), shared.Rerank(parse), out _);
                    points.Add(m);
                    context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  nprobe {m.NProbe,5} shortlist {SearchCommand.ShortlistText(m.Shortlist),5} middle {m.MiddleShortlist,5}: R@1 {SearchCommand.Recall(m.RecallAt1)}  {m.MicrosecondsPerQuery,9:F1} us/query"));
                }
            }
            List<SearchMeasurement> front = Pareto(points);
            if (parse.GetValue(plot) is string plotPath)
            {
                WritePlot(plotPath, points, front, $"{index.Count} vectors, {index.ListCount} lists, {index.BytesPerVector} B/vector");
            }
            if (parse.GetValue(shared.Json))
            {
                context.Out.WriteLine(ToJson(points, front));
            }
            else
            {
                var table = new Table().Border(TableBorder.Rounded).Title("Pareto-optimal operating points");
                table.AddColumn(new TableColumn("nprobe").RightAligned());
                table.AddColumn(new TableColumn("shortlist").RightAligned());
                table.AddColumn(new TableColumn("middle").RightAligned());
                foreach (string column in new[] { "R@1", "R@10", "R@100", "us/query" })
                {
                    table.AddColumn(new TableColumn(column).RightAligned());
                }
                foreach (SearchMeasurement m in front)
                {
                    table.AddRow(m.NProbe.ToString(CultureInfo.InvariantCulture), SearchCommand.ShortlistText(m.Shortlist), m.MiddleShortlist.ToString(CultureInfo.InvariantCulture), SearchCommand.Recall(m.RecallAt1),
                        SearchCommand.Recall(m.RecallAt10), SearchCommand.Recall(m.RecallAt100), m.MicrosecondsPerQuery.ToString("F1", CultureInfo.InvariantCulture));
                }
                context.Console.Write(table);
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{points.Count} points measured on {queries.Count} queries, k = {shared.K(parse)}, {points[0].Threads} threads; {front.Count} on the Pareto front."));
            }
            return CliApp.Success;
        }, parse));
        return command;
    }

    /// <summary>The points no other point beats: sorted by time, each with a higher R@1 than every faster one.</summary>
    internal static List<SearchMeasurement> Pareto(IEnumerable<SearchMeasurement> points)
    {
        var front = new List<SearchMeasurement>();
        double best = double.NegativeInfinity;
        foreach (SearchMeasurement m in points.OrderBy(m => m.MicrosecondsPerQuery).ThenByDescending(m => m.RecallAt1))
        {
            if (m.RecallAt1 is double r && r > best)
            {
                front.Add(m);
                best = r;
            }
        }
        return front;
    }

    private static string ToJson(List<SearchMeasurement> points, List<SearchMeasurement> front)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("pareto");
            front.ForEach(m => SearchCommand.Write(json, m));
            json.WriteEndArray();
            json.WriteStartArray("points");
            points.ForEach(m => SearchCommand.Write(json, m));
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WritePlot(string path, List<SearchMeasurement> points, List<SearchMeasurement> front, string subtitle)
    {
        var model = new PlotModel { Title = "R@1 against search time", Subtitle = subtitle, Background = OxyColors.White };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightBottom });
        model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Bottom, Title = "µs per query", MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "R@1", Minimum = 0, Maximum = 1, MajorGridlineStyle = LineStyle.Dot });
        var all = new ScatterSeries { Title = "nprobe x shortlist", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColors.Gray };
        all.Points.AddRange(points.Where(m => m.RecallAt1 is not null).Select(m => new ScatterPoint(m.MicrosecondsPerQuery, m.RecallAt1!.Value)));
        var pareto = new LineSeries { Title = "Pareto front", Color = OxyColors.SteelBlue, MarkerType = MarkerType.Square, MarkerSize = 4 };
        pareto.Points.AddRange(front.Select(m => new DataPoint(m.MicrosecondsPerQuery, m.RecallAt1!.Value)));
        model.Series.Add(all);
        model.Series.Add(pareto);
        using FileStream stream = File.Create(path);
        SvgExporter.Export(model, stream, 800, 500, isDocument: true);
    }

    private static Option<int[]> IntList(string name, string description, string defaultValue, int min) => new(name)
    {
        Description = description + $" Default: {defaultValue}.",
        HelpName = "A,B,...",
        DefaultValueFactory = result => Parse(defaultValue, result, name, min),
        CustomParser = result => Parse(result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty, result, name, min),
    };

    private static int[] Parse(string text, ArgumentResult result, string name, int min)
    {
        var values = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min)
            {
                result.AddError($"{name} expects comma-separated integers of at least {min}, such as 1,4,16; got '{text}'.");
                return [];
            }
            values.Add(v);
        }
        if (values.Count == 0)
        {
            result.AddError($"{name} needs at least one value.");
        }
        return [.. values];
    }
}
