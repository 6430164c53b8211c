using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Running;

/// <summary>One series of a round-robin: a call taking the iteration index (to pick the input buffer set), its timings, or why it did not run.</summary>
internal sealed class TimedCase
{
    public TimedCase(string name, string kind, Action<int>? call)
    {
        Name = name;
        Kind = kind;
        Call = call;
    }

    /// <summary>Display name.</summary>
    public string Name { get; }

    /// <summary>One of <see cref="SeriesKinds"/>.</summary>
    public string Kind { get; }

    /// <summary>The call; null once the case has failed.</summary>
    public Action<int>? Call { get; private set; }

    /// <summary>One of <see cref="SeriesStatus"/>.</summary>
    public string Status { get; private set; } = SeriesStatus.Ok;

    /// <summary>Why it did not run, or a remark.</summary>
    public string Note { get; set; } = "";

    /// <summary>Ours: the backend asked for.</summary>
    public string? Backend { get; init; }

    /// <summary>Ours: the backend that ran.</summary>
    public string? ResolvedBackend { get; set; }

    /// <summary>Ours: "device" or "host".</summary>
    public string? Counts { get; init; }

    /// <summary>Milliseconds of every timed call.</summary>
    public List<double> TimesMs { get; } = [];

    /// <summary>Whether the case still takes part.</summary>
    public bool IsLive => Call is not null && Status == SeriesStatus.Ok;

    /// <summary>Takes the case out of the run, with the reason.</summary>
    public void Fail(string status, string note)
    {
        Status = status;
        Note = note;
        Call = null;
        TimesMs.Clear();
    }

    /// <summary>The case as a results-file series.</summary>
    public SeriesResult ToResult(double flops)
    {
        double? median = TimesMs.Count > 0 ? Median(TimesMs) : null;
        double? tflops = median is double m && m > 0 ? Math.Round(flops / (m * 1e-3) / 1e12, 3) : null;
        return new SeriesResult(Name, Kind, Status, Note, TimesMs.Select(t => Math.Round(t, 6)).ToList(),
            median is double md ? Math.Round(md, 6) : null, tflops)
        {
            Backend = Backend,
            ResolvedBackend = ResolvedBackend,
            Counts = Counts,
        };
    }

    /// <summary>The median (mean of the middle two for an even count), as Python's statistics.median.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
    }
}
