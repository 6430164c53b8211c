using System.Globalization;
using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Reporting;

/// <summary>How numbers and statuses are written in the report.</summary>
internal static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>TFLOP/s of a series, or its status when it has no timing, or a dash when it is absent.</summary>
    public static string Tflops(SeriesResult? s)
    {
        if (s is null) return "—";
        if (!s.HasTiming) return s.Status == SeriesStatus.Ok ? "—" : s.Status;
        return Number(s.Tflops!.Value);
    }

    /// <summary>A TFLOP/s figure: whole numbers from 100 up, one decimal below.</summary>
    public static string Number(double v) =>
        v >= 100 ? v.ToString("F0", Invariant) : v.ToString("F1", Invariant);

    /// <summary>A ratio as "1.07×", or a dash.</summary>
    public static string Ratio(double? r) => r is double v ? v.ToString("F2", Invariant) + "×" : "—";

    /// <summary>A verdict as a table cell.</summary>
    public static string Verdict(Verdict v) => v switch
    {
        Reporting.Verdict.Pass => "pass",
        Reporting.Verdict.Fail => "**FAIL**",
        Reporting.Verdict.Missing => "no data",
        _ => "—",
    };

    /// <summary>M·N·K as a power of two, e.g. "2^39.0".</summary>
    public static string Volume(double v) => "2^" + Math.Log2(v).ToString("F1", Invariant);

    /// <summary>Markdown-safe cell text.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    /// <summary>A value of an environment map, or a fallback.</summary>
    public static string Env(IReadOnlyDictionary<string, string>? env, string key, string fallback = "unknown") =>
        env is not null && env.TryGetValue(key, out string? v) && !string.IsNullOrWhiteSpace(v) ? v : fallback;
}
