using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Reporting;

/// <summary>
/// The report's <c>results.json</c>: the verdict of every row, and beside it everything it was computed from
/// (the problem file and both tools' files with every timing), so that later readers can recompute anything.
/// </summary>
internal sealed record MergedResults(
    string Schema,
    string GeneratedUtc,
    CriteriaSummary Criteria,
    IReadOnlyList<RowSummary> Rows,
    ProblemFile Problems,
    ResultsFile? Torch,
    ResultsFile? Ours)
{
    /// <summary>The schema written.</summary>
    public const string SchemaName = "groupedgemm-bench-report/1";

    /// <summary>Builds the file from the rows and their sources.</summary>
    public static MergedResults Create(IReadOnlyList<ReportRow> rows, ProblemFile problems, ResultsFile? torch, ResultsFile? ours) =>
        new(SchemaName,
            DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            new CriteriaSummary(Reporting.Criteria.TorchRatio, Reporting.Criteria.DenseRatio, Reporting.Criteria.DenseVolume,
                Reporting.Criteria.WeightGradFraction,
                "torch bar judged on ours (in-process, same loop) ÷ torch._grouped_mm where that series was timed " +
                "(torch_bar_basis 'same-loop'), else on the direct cross-process ratio ours ÷ torch._grouped_mm " +
                "('cross-process'); dense bar on ours ÷ the dense GEMM of our run; weight-gradient bar on our run"),
            rows.Select(RowSummary.From).ToList(),
            problems, torch, ours);
}

/// <summary>The bars, as numbers.</summary>
internal sealed record CriteriaSummary(
    double MinOursOverTorch, double MinOursOverDense, double DenseBarFromVolume, double MinWeightGradOverForward, string Note);

/// <summary>One report row, flattened.</summary>
internal sealed record RowSummary(
    string Problem, string Dtype, string Form, double Volume,
    string? OursSeries, string? OursBackend, double? OursTflops, double? TorchTflops,
    double? OursDenseTflops, double? TorchDenseTflops, double? PaddedTflops,
    double? OursOverTorch, double? OursOverTorchNormalised, double? OursOverDense, double? DenseAgreement,
    double? WeightGradOverForward, string TorchBar, string DenseBar, string WeightGradBar, bool Passes,
    double? OursSameLoopTflops, string? OursSameLoopBackend, double? OursSameLoopOverTorch, string TorchBarBasis)
{
    /// <summary>Flattens a row.</summary>
    public static RowSummary From(ReportRow r) => new(
        r.Problem.Id, r.Dtype, r.Form, r.Problem.Volume,
        r.Ours?.Name, r.Ours?.ResolvedBackend, Tf(r.Ours), Tf(r.Torch), Tf(r.OursDense), Tf(r.TorchDense), Tf(r.Padded),
        Round(r.OursOverTorch), Round(r.OursOverTorchNormalised), Round(r.OursOverDense), Round(r.DenseAgreement),
        Round(r.WeightGradOverForward), Word(r.TorchBar), Word(r.DenseBar), Word(r.WeightGradBar), r.Passes,
        Tf(r.OursSameLoop), r.OursSameLoop?.ResolvedBackend, Round(r.OursSameLoopOverTorch),
        r.TorchBarOnSameLoop ? "same-loop" : "cross-process");

    private static double? Tf(SeriesResult? s) => s is { HasTiming: true } ? s.Tflops : null;

    private static double? Round(double? v) => v is double d ? Math.Round(d, 4) : null;

    private static string Word(Verdict v) => v switch
    {
        Verdict.Pass => "pass",
        Verdict.Fail => "fail",
        Verdict.Missing => "missing",
        _ => "n/a",
    };
}
