using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Search;

namespace Qinco.Cli.Commands;

/// <summary>One measured operating point of an index: parameters, recall (shares 0..1; null without ground truth) and time.</summary>
internal sealed record SearchMeasurement(int NProbe, int Shortlist, int MiddleShortlist, int K, double? RecallAt1, double? RecallAt10, double? RecallAt100, double MicrosecondsPerQuery, int Threads, int Queries)
{
    /// <summary>Bytes per entry in the lists (code + norm + id).</summary>
    public int BytesPerVector { get; init; }

    /// <summary>Bytes the loaded index holds (lists with their spare capacity, centroids, tables; not the quantizer).</summary>
    public long AllocatedBytes { get; init; }
}

/// <summary><c>qinco search</c>: searches an index with a query file, reports recall and time per query.</summary>
internal static class SearchCommand
{
    public static Command Create(CliContext context)
    {
        var shared = new SearchOptions();
        var nprobe = CliOptions.Int("--nprobe", "Inverted lists scanned per query (clamped to the list count).", new IvfSearchParameters().NProbe, min: 1);
        var shortlist = CliOptions.Int("--shortlist", "Codes kept by the look-up-table stage for decoding and exact re-ranking; 0 keeps all.", new IvfSearchParameters().Shortlist, min: 0);
        var middle = CliOptions.Int("--middle-shortlist", "Codes the table stage keeps for the pairwise decoder, which passes --shortlist of them on (needs an index built with --pairwise); 0: no middle stage.", 0, min: 0);
        var output = PathOptions.Output("--out", "Write the result ids (int64 .npy [queries, k]; -1 where fewer than k).", required: false, "IDS.npy", ".npy");
        var command = new Command("search", "Search an index: R@1/10/100 against ground truth and microseconds per query.");
        shared.AddTo(command, nprobe, shortlist, middle, output);
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            (IvfIndex index, VectorSet queries, Matrix<long>? truth) = shared.Load(parse);
            SearchMeasurement m = Measure(index, queries, truth, shared.K(parse), parse.GetValue(nprobe), parse.GetValue(shortlist), parse.GetValue(middle), shared.Threads(parse), shared.Repeat(parse), shared.Rerank(parse), out SearchResult result);
            if (parse.GetValue(output) is string outPath)
            {
                VectorFile.WriteNpy(outPath, result.Ids);
            }
            if (parse.GetValue(shared.Json))
            {
                context.Out.WriteLine(ToJson(m));
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"nprobe {m.NProbe}, shortlist {ShortlistText(m.Shortlist)}{(m.MiddleShortlist > 0 ? $" (middle {m.MiddleShortlist})" : string.Empty)}: R@1 {Recall(m.RecallAt1)}, R@10 {Recall(m.RecallAt10)}, R@100 {Recall(m.RecallAt100)}, {m.MicrosecondsPerQuery:F1} us/query ({m.Queries} queries, k = {m.K}, {m.Threads} threads; {index.Count} vectors, {index.BytesPerVector} bytes each)"));
            }
            return CliApp.Success;
        }, parse));
        return command;
    }

    /// <summary>Warms up on a few queries, then times <paramref name="repeat"/> searches of all of them and keeps the median.</summary>
    internal static SearchMeasurement Measure(IvfIndex index, VectorSet queries, Matrix<long>? truth, int k, int nprobe, int shortlist, int middle, int threads, int repeat, bool rerank, out SearchResult result)
    {
        if (middle > 0 && index.Pairwise is null)
        {
            throw new CliException("--middle-shortlist needs an index with a pairwise decoder ('index build --pairwise true').");
        }
        if (k > Math.Max(index.Count, 1))
        {
            // Every result beyond the index's vectors would be -1, and the result arrays alone take queries x k x 12 bytes.
            throw new CliException($"--k {k} exceeds the index's {index.Count} vectors.");
        }
        for (int q = 0; truth is not null && q < Math.Min(truth.Rows, queries.Count); q++)
        {
            if (!index.Contains(truth[q, 0]))
            {
                throw new CliException($"ground-truth row {q} names neighbour {truth[q, 0]}, which is not an id in the index (ids are the rows of --base, counted from the file's first row, unless given): the recall would be wrong.");
            }
        }
        var parameters = new IvfSearchParameters
        {
            MiddleShortlist = middle,
            NProbe = nprobe,
            Shortlist = shortlist == 0 ? IvfSearchParameters.Unlimited : shortlist,
            Rerank = rerank,
            MaxDegreeOfParallelism = threads,
        };
        index.Search(queries.Slice(0, Math.Min(queries.Count, 64)), k, parameters);
        var times = new List<double>();
        result = null!;
        for (int r = 0; r < repeat; r++)
        {
            var watch = Stopwatch.StartNew();
            result = index.Search(queries, k, parameters);
            times.Add(watch.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        double? r1 = null, r10 = null, r100 = null;
        if (truth is not null)
        {
            r1 = Qinco.Search.Recall.AtK(result, truth, 1);
            r10 = k >= 10 ? Qinco.Search.Recall.AtK(result, truth, 10) : null;
            r100 = k >= 100 ? Qinco.Search.Recall.AtK(result, truth, 100) : null;
        }
        return new SearchMeasurement(Math.Min(nprobe, index.ListCount), shortlist, middle, k, r1, r10, r100, median * 1e6 / Math.Max(1, queries.Count),
            threads == -1 ? Environment.ProcessorCount : threads, queries.Count)
        {
            BytesPerVector = index.BytesPerVector,
            AllocatedBytes = index.AllocatedBytes,
        };
    }

    /// <summary>One JSON object: nprobe, shortlist (0 = unlimited), k, r_at_1, r_at_10, r_at_100 (shares 0..1, null without ground truth), us_per_query, threads, queries.</summary>
    internal static string ToJson(SearchMeasurement m)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, m);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal static void Write(Utf8JsonWriter json, SearchMeasurement m)
    {
        json.WriteStartObject();
        json.WriteNumber("nprobe", m.NProbe);
        json.WriteNumber("shortlist", m.Shortlist);
        json.WriteNumber("middle_shortlist", m.MiddleShortlist);
        json.WriteNumber("k", m.K);
        ReportOutput.WriteNullable(json, "r_at_1", m.RecallAt1);
        ReportOutput.WriteNullable(json, "r_at_10", m.RecallAt10);
        ReportOutput.WriteNullable(json, "r_at_100", m.RecallAt100);
        json.WriteNumber("us_per_query", m.MicrosecondsPerQuery);
        json.WriteNumber("threads", m.Threads);
        json.WriteNumber("queries", m.Queries);
        json.WriteNumber("bytes_per_vector", m.BytesPerVector);
        json.WriteNumber("allocated_bytes", m.AllocatedBytes);
        json.WriteEndObject();
    }

    internal static string Recall(double? value) => value is double v ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";

    internal static string ShortlistText(int shortlist) => shortlist == 0 ? "all" : shortlist.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The options <c>search</c> and <c>tune</c> share: index, queries, ground truth, k, threads, repeats, JSON.</summary>
internal sealed class SearchOptions
{
    private readonly Option<string> _index = PathOptions.Input("--index", "The index written by 'qinco index build'.", required: true, "index", "INDEX");
    private readonly Option<string> _queries = PathOptions.Input("--queries", "Query vectors (.fvecs, .bvecs or .npy).", required: true, "vector");
    private readonly Option<Core.IO.RowRange?> _queryRows = CliOptions.Rows("--query-rows", "Rows of --queries to search.");
    private readonly Option<string> _groundTruth = PathOptions.Input("--groundtruth", "Each query's true neighbours (.ivecs or int .npy), in the index's ids; rows follow --query-rows.", required: false, "ground-truth");
    private readonly Option<int> _k = CliOptions.Int("--k", "Results per query.", 100, min: 1);
    private readonly Option<int> _threads = CliOptions.Threads();
    private readonly Option<int> _repeat = CliOptions.Int("--repeat", "Timed searches of all queries; the median time is reported.", 1, min: 1);
    private readonly Option<bool> _rerank = CliOptions.Bool("--rerank", "Decode the shortlist with the model and re-rank by exact L2 (true|false).", true);

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON instead of text." };

    public Option<string> GroundTruth => _groundTruth;

    /// <summary>Adds the shared options and then <paramref name="extra"/> to <paramref name="command"/>.</summary>
    public void AddTo(Command command, params Option[] extra)
    {
        foreach (Option option in new Option[] { _index, _queries, _queryRows, _groundTruth, _k, _threads, _repeat, _rerank, Json }.Concat(extra))
        {
            command.Options.Add(option);
        }
    }

    public int K(ParseResult parse) => parse.GetValue(_k);

    public int Threads(ParseResult parse) => parse.GetValue(_threads);

    public int Repeat(ParseResult parse) => parse.GetValue(_repeat);

    public bool Rerank(ParseResult parse) => parse.GetValue(_rerank);

    public (IvfIndex Index, VectorSet Queries, Matrix<long>? Truth) Load(ParseResult parse)
    {
        IvfIndex index = IvfIndex.Load(parse.GetRequiredValue(_index), Threads(parse));
        Core.IO.RowRange? rows = parse.GetValue(_queryRows);
        VectorSet queries = IndexCommand.ReadMatching(parse.GetRequiredValue(_queries), rows, index.Dimension, "query");
        Matrix<long>? truth = null;
        if (parse.GetValue(_groundTruth) is string truthPath)
        {
            truth = VectorFile.ReadLongMatrix(truthPath, rows);
            if (truth.Rows != queries.Count)
            {
                throw new CliException($"the ground truth has {truth.Rows} rows but there are {queries.Count} queries.");
            }
        }
        return (index, queries, truth);
    }
}
