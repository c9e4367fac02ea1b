using System;
using System.IO;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Search;

namespace Qinco.Tests.Cli;

/// <summary>What a CLI run returned: exit code, standard output and standard error.</summary>
internal sealed record CliOutcome(int ExitCode, string Out, string Error);

/// <summary>Runs the CLI in-process and writes the synthetic files the CLI tests share.</summary>
internal static class CliHarness
{
    public static CliOutcome Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return new CliOutcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Writes <paramref name="total"/> synthetic 16-d vectors (data.fvecs), <paramref name="queryCount"/> queries
    /// (queries.fvecs) and their exact top-<paramref name="k"/> over rows [baseStart, baseStart + baseCount) (truth.ivecs).
    /// </summary>
    public static (string Data, string Queries, string Truth) WriteData(Func<string, string> pathOf, int total, int baseStart, int baseCount, int queryCount, int k)
    {
        VectorSet all = SyntheticData.Generate(total, 16, seed: 1, distributionSeed: 5);
        VectorSet queries = SyntheticData.Generate(queryCount, 16, seed: 2, distributionSeed: 5);
        Matrix<long> truth = FlatSearch.Search(all.Slice(baseStart, baseCount), queries, k, 1).Ids;
        string data = pathOf("data.fvecs"), q = pathOf("queries.fvecs"), t = pathOf("truth.ivecs");
        VectorFile.WriteFvecs(data, all);
        VectorFile.WriteFvecs(q, queries);
        VectorFile.WriteIvecs(t, Matrix<int>.FromArray(Array.ConvertAll(truth.Data, id => (int)id), truth.Columns));
        return (data, q, t);
    }
}
