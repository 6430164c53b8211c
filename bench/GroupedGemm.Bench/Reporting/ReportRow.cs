using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Reporting;

/// <summary>
/// One row of the report: one problem, element type and form, with the series of both tools side by side,
/// the ratios and the verdicts of the bars.
/// </summary>
internal sealed record ReportRow(
    Problem Problem,
    string Dtype,
    string Form,
    SeriesResult? Ours,
    IReadOnlyList<SeriesResult> OursAll,
    SeriesResult? OursDense,
    SeriesResult? Torch,
    SeriesResult? TorchDense,
    SeriesResult? Padded)
{
    /// <summary>Our fastest series on this row, whatever the backend and counts location.</summary>
    public SeriesResult? OursBest => OursAll.Where(s => s.HasTiming).MaxBy(s => s.Tflops!.Value);

    /// <summary>
    /// Ours (Auto, device counts) called through ctypes in the PyTorch process and timed in the same loop as
    /// torch._grouped_mm; absent when <c>torch_baseline.py</c> ran without <c>--ours-lib</c>.
    /// </summary>
    public SeriesResult? OursSameLoop { get; init; }

    /// <summary>Ours ÷ torch._grouped_mm, TFLOP/s of the two runs (two processes) compared directly.</summary>
    public double? OursOverTorch => Ratio(Ours, Torch);

    /// <summary>Ours ÷ torch._grouped_mm, both timed in one round-robin loop of the PyTorch process: clock drift hits both.</summary>
    public double? OursSameLoopOverTorch => Ratio(OursSameLoop, Torch);

    /// <summary>Whether the torch bar is judged on the same-loop ratio (the same-loop series has a timing on this row).</summary>
    public bool TorchBarOnSameLoop => OursSameLoop is { HasTiming: true };

    /// <summary>The ratio the torch bar is judged on: the same-loop one when there is one, else the direct cross-process one.</summary>
    public double? TorchBarRatio => TorchBarOnSameLoop ? OursSameLoopOverTorch : OursOverTorch;

    /// <summary>
    /// Ours ÷ torch._grouped_mm with each side first divided by the dense GEMM timed in its own loop:
    /// (ours ÷ our dense) ÷ (torch ÷ torch's dense). Cancels clock drift between the two processes.
    /// </summary>
    public double? OursOverTorchNormalised =>
        Ratio(Ours, OursDense) is double o && Ratio(Torch, TorchDense) is double t && t > 0 ? o / t : null;

    /// <summary>Ours ÷ the dense GEMM of equal FLOPs timed in the same loop.</summary>
    public double? OursOverDense => Ratio(Ours, OursDense);

    /// <summary>Our dense ÷ torch's dense: how far apart the two runs' yardsticks were (1.0 = no drift).</summary>
    public double? DenseAgreement => Ratio(OursDense, TorchDense);

    /// <summary>Ours on the forward of the same problem and element type (set for weight-gradient rows).</summary>
    public SeriesResult? Forward { get; init; }

    /// <summary>Weight gradient ÷ forward, ours, TFLOP/s (weight-gradient rows only).</summary>
    public double? WeightGradOverForward => Form == Forms.WeightGrad ? Ratio(Ours, Forward) : null;

    /// <summary>Bar: at least <see cref="Criteria.TorchRatio"/> × torch._grouped_mm, on <see cref="TorchBarRatio"/>.</summary>
    public Verdict TorchBar => Judge.AtLeast(TorchBarRatio, Criteria.TorchRatio);

    /// <summary>Bar: at least <see cref="Criteria.DenseRatio"/> × dense on rows with M·N·K ≥ 2^36.</summary>
    public Verdict DenseBar => Problem.Volume >= Criteria.DenseVolume
        ? Judge.AtLeast(OursOverDense, Criteria.DenseRatio)
        : Verdict.NotApplicable;

    /// <summary>Bar: the weight gradient within 15% of the forward (weight-gradient rows only).</summary>
    public Verdict WeightGradBar => Form == Forms.WeightGrad
        ? Judge.AtLeast(WeightGradOverForward, Criteria.WeightGradFraction)
        : Verdict.NotApplicable;

    /// <summary>Whether every bar that applies is met.</summary>
    public bool Passes => new[] { TorchBar, DenseBar, WeightGradBar }.All(v => v is Verdict.Pass or Verdict.NotApplicable);

    private static double? Ratio(SeriesResult? a, SeriesResult? b) =>
        a is { HasTiming: true } && b is { HasTiming: true } ? a.Tflops!.Value / b.Tflops!.Value : null;
}

/// <summary>The form names shared by both tools.</summary>
internal static class Forms
{
    /// <summary>x[M,K] · w[E,K,N].</summary>
    public const string Forward = "forward";

    /// <summary>x[M,K] · w[E,N,K]ᵀ.</summary>
    public const string ForwardTransB = "forward-transb";

    /// <summary>x[rows of e]ᵀ · dy[rows of e] → [E,K,N].</summary>
    public const string WeightGrad = "weight-grad";

    /// <summary>All forms, in report order.</summary>
    public static readonly string[] All = [Forward, ForwardTransB, WeightGrad];

    /// <summary>A plot title for a form, in plain ASCII (plot fonts may lack superscripts).</summary>
    public static string PlotTitle(string form) => form switch
    {
        Forward => "forward: x[M,K] * w[E,K,N]",
        ForwardTransB => "forward, trans_b: x[M,K] * w[E,N,K]^T",
        WeightGrad => "weight gradient: x_e^T * dy_e -> [E,K,N]",
        _ => form,
    };

    /// <summary>A heading for a form.</summary>
    public static string Title(string form) => form switch
    {
        Forward => "forward, x[M,K] · w[E,K,N] (trans_b = false)",
        ForwardTransB => "forward, x[M,K] · w[E,N,K]ᵀ (trans_b = true)",
        WeightGrad => "weight gradient, x_eᵀ · dy_e → [E,K,N] (trans_a = true)",
        _ => form,
    };
}
