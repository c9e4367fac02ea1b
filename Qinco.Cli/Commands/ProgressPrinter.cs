using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Qinco.Core;

namespace Qinco.Cli.Commands;

/// <summary>Writes <see cref="FitProgress"/> reports as lines on the error stream: every phase change, and at most one line per interval otherwise.</summary>
internal sealed class ProgressPrinter : IProgress<FitProgress>
{
    private readonly TextWriter _writer;
    private readonly string _prefix;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
    private readonly object _gate = new();
    private string? _lastPhase;

    public ProgressPrinter(TextWriter writer, string prefix, TimeSpan interval)
    {
        _writer = writer;
        _prefix = prefix;
        _interval = interval;
    }

    public void Report(FitProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            bool newPhase = !string.Equals(value.Phase, _lastPhase, StringComparison.Ordinal);
            bool epochEnd = value.Training?.Phase == Qinco.Training.TrainingPhase.EpochCompleted;
            if (!newPhase && !epochEnd && _sinceLast.Elapsed < _interval)
            {
                return;
            }
            _lastPhase = value.Phase;
            _sinceLast.Restart();
            string detail = string.IsNullOrEmpty(value.Detail) ? string.Empty : " " + value.Detail;
            string done = value.Total > 0 ? string.Create(CultureInfo.InvariantCulture, $" [{value.Completed}/{value.Total}]") : string.Empty;
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_prefix}{value.Elapsed.TotalSeconds,6:F1}s {value.Phase}{done}{detail}"));
            _writer.Flush();
        }
    }
}
