namespace GroupedGemm.Bench.Reporting;

/// <summary>The bars of the benchmark issue that every row is judged against.</summary>
internal static class Criteria
{
    /// <summary>Ours must reach this fraction of <c>torch._grouped_mm</c> on every row.</summary>
    public const double TorchRatio = 1.0;

    /// <summary>Ours must reach this fraction of the dense GEMM of equal FLOPs on large rows.</summary>
    public const double DenseRatio = 0.9;

    /// <summary>Rows with M·N·K at least this large are held to <see cref="DenseRatio"/> (2^36).</summary>
    public const double DenseVolume = 68_719_476_736.0;

    /// <summary>The weight gradient must reach this fraction of the forward's TFLOP/s ("within 15%").</summary>
    public const double WeightGradFraction = 0.85;
}

/// <summary>The outcome of one bar on one row.</summary>
internal enum Verdict
{
    /// <summary>The bar does not apply to the row.</summary>
    NotApplicable,

    /// <summary>A figure the bar needs is missing (a series did not run).</summary>
    Missing,

    /// <summary>The row meets the bar.</summary>
    Pass,

    /// <summary>The row misses the bar.</summary>
    Fail,
}

/// <summary>Judging helpers.</summary>
internal static class Judge
{
    /// <summary>Pass when <paramref name="ratio"/> reaches <paramref name="bar"/>; Missing when there is no ratio.</summary>
    public static Verdict AtLeast(double? ratio, double bar) =>
        ratio is not double r ? Verdict.Missing : r >= bar ? Verdict.Pass : Verdict.Fail;
}
