using System.Text.Json.Serialization;
using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Sweep;

/// <summary>
/// One row of docs/sweep-results.json: a problem in one form and element type on one card. Ratios are speed ratios
/// (the other's median time ÷ ours): above 1 means ours is faster. Null where a side has no timing; the ratio and
/// HBM-floor fields are written even when null, so that every row holds them.
/// </summary>
internal sealed record SweepRow(
    string Model, string Problem, string Projection, long Tokens, string Routing, string Form, string Dtype, string Card,
    string Part, long M, long K, long N, int Experts, long NonemptyExperts, string Status, string Note,
    double? OursMs, double? TorchMs, double? DenseMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? OursOverTorch,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? OursOverDense,
    bool Decode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? BytesMoved,
    double? CopyBandwidthGbs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? HbmFloorFraction,
    string? ResolvedBackend, double? CheckedRelError, int? Iters)
{
    /// <summary>How the row's series were timed (<see cref="ResultGroup.Timing"/>; "eager" for files without it); null
    /// without a timing.</summary>
    public string? Timing { get; init; }

    /// <summary>Which of ours' timings <see cref="HbmFloorFraction"/> is computed from: the row's own
    /// (<see cref="Timing"/>), or "graph (ours alone)" (<see cref="SeriesResult.GraphAloneMedianMs"/>); null without a
    /// floor fraction.</summary>
    public string? HbmFloorTiming { get; init; }

    /// <summary>Whether the row's series were timed from CUDA graph replays.</summary>
    [JsonIgnore]
    public bool GraphTimed => Timing is not null && Timing.StartsWith("graph", StringComparison.Ordinal);
}

/// <summary>The bars of issue 22, judged per card.</summary>
internal sealed record SweepCardSummary(
    string Card, int Rows, int Compared, int AtLeastTorch, double? ShareAtLeastTorch, int BelowNinety, double? GeometricMean,
    int DecodeLarge, int DecodeLargeAtFloor, int Skipped, int WithoutFigure, int VerifyChecks, int VerifyFailed,
    double? CopyBandwidthGbs, bool MeetsBars)
{
    /// <summary>The sweep's parts (bench/sweep/README.md) that this card has no folder for; the bars need none missing.</summary>
    public IReadOnlyList<string> PartsNotRun { get; init; } = [];

    /// <summary>The libraries this card's parts ran (SweepPartRun.Library, in order of first use); the bars need one: a
    /// verdict pooled over releases is nobody's package.</summary>
    public IReadOnlyList<string> Libraries { get; init; } = [];
}

/// <summary>A part as it ran: its card, its iteration counts and the copy bandwidth it measured.</summary>
internal sealed record SweepPartRun(string Part, string Card, int Iters, int Warmup, double EstimatedSeconds, double? CopyBandwidthGbs,
    string? Torch, string? Library)
{
    /// <summary>
    /// The fewest timed calls of any series in the part: below <see cref="Iters"/> where slow groups ran fewer rounds
    /// (bench/sweep/sweep_part.py's ROUND_BUDGET); null when nothing was timed.
    /// </summary>
    public int? FewestIters { get; init; }

    /// <summary>The library a card's verdict groups this part by (<see cref="Library"/>, "—" when the part has none).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string LibraryKey => Library ?? "—";
}

/// <summary>docs/sweep-results.json.</summary>
internal sealed record SweepResultsFile(
    string Schema, string GeneratedUtc, string Bars, string BytesMovedFormula, IReadOnlyList<SweepCardSummary> Cards,
    IReadOnlyList<SweepPartRun> Parts, IReadOnlyList<SweepRow> Rows, IReadOnlyList<VerifyResult> Verification)
{
    /// <summary>The schema written.</summary>
    public const string SchemaName = "groupedgemm-sweep-results/1";
}
