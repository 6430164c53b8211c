using System.Globalization;
using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;

namespace GroupedGemm.Bench.Sweep;

/// <summary>
/// Merges the parts' folders (each: plan.json, problems.json, torch.json from bench/sweep/sweep_part.py, verify.json
/// from <c>sweep verify</c>) into <see cref="SweepRow"/>s and the per-card verdicts.
/// </summary>
internal static class SweepMerge
{
    /// <summary>Ratio bars of issue 22.</summary>
    public const double MinShareAtLeastTorch = 0.95;

    /// <summary>No row below this ratio.</summary>
    public const double FloorRatio = 0.9;

    /// <summary>Geometric mean at least this.</summary>
    public const double MinGeometricMean = 1.10;

    /// <summary>Decode rows that move at least this many bytes (256 MB, decimal) are held to <see cref="MinHbmFraction"/>.</summary>
    public const long DecodeLargeBytes = 256_000_000;

    /// <summary>Fraction of the HBM floor large decode rows must reach.</summary>
    public const double MinHbmFraction = 0.85;

    /// <summary>The formula, for the files.</summary>
    public const string BytesMovedFormula =
        "element bytes x (forward, trans_b: M*K + E_nonempty*K*N + M*N; weight gradient: M*K + M*N + E*K*N); " +
        "hbm_floor_fraction = (bytes_moved / copy_bandwidth) / ours' median time (from a CUDA graph replay of ours alone " +
        "where the row's series were timed eagerly because one could not be captured: hbm_floor_timing), copy_bandwidth = " +
        "2 x bytes of a device-to-device copy / its median time (read + write), measured once per part; decode rows " +
        "(tokens <= 256) only";

    /// <summary>The part folders under <paramref name="roots"/> (a folder holding plan.json, or any folder above some).</summary>
    public static List<string> FindParts(IEnumerable<string> roots) =>
        roots.SelectMany(r => File.Exists(Path.Combine(r, "plan.json"))
                ? [r]
                : Directory.EnumerateFiles(r, "plan.json", SearchOption.AllDirectories).Select(f => Path.GetDirectoryName(f)!))
            .Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads and merges the parts.</summary>
    public static SweepResultsFile Merge(IReadOnlyList<string> partFolders)
    {
        // The whole sweep's parts, from the same embedded models the planner splits: a card that lacks one fails the bars.
        var allParts = SweepPlanner.Parts(SweepModelFile.LoadEmbedded()).Select(p => p.Name).ToList();
        var rows = new List<SweepRow>();
        var parts = new List<SweepPartRun>();
        var checks = new List<VerifyResult>();
        var verifyCards = new List<string>();
        foreach (string folder in partFolders)
        {
            SweepPlanFile plan = Read(Path.Combine(folder, "plan.json"), BenchJson.Default.SweepPlanFile);
            ProblemFile problems = BenchJson.ReadProblems(Path.Combine(folder, "problems.json"));
            string torchPath = Path.Combine(folder, "torch.json");
            ResultsFile? torch = File.Exists(torchPath) ? BenchJson.ReadResults(torchPath) : null;
            string verifyPath = Path.Combine(folder, "verify.json");
            ResultsFile? verify = File.Exists(verifyPath) ? BenchJson.ReadResults(verifyPath) : null;
            string card = Format.Env(torch?.Environment, "device", Format.Env(verify?.Environment, "device", "not run"));
            double? bandwidth = Number(torch?.Environment, "copy_bandwidth_gbs");
            parts.Add(new SweepPartRun(plan.Part, card, torch?.Settings.Iters ?? plan.Iters, torch?.Settings.Warmup ?? plan.Warmup,
                plan.EstimatedSeconds, bandwidth, Format.Env(torch?.Environment, "torch", "—"),
                Format.Env(torch?.Environment, "groupedgemm_inprocess", "—"))
            {
                FewestIters = torch?.Groups.SelectMany(g => g.Series).Where(s => s.TimesMs is { Count: > 0 })
                    .Select(s => (int?)s.TimesMs.Count).Min(),
            });
            foreach (VerifyResult v in verify?.Verification ?? [])
            {
                checks.Add(v);
                verifyCards.Add(card);
            }

            rows.AddRange(PartRows(plan, problems, torch, card, bandwidth));
        }

        var cards = rows.Select(r => r.Card).Distinct().Order(StringComparer.Ordinal)
            .Select(c => Summarise(c, rows.Where(r => r.Card == c).ToList(),
                checks.Where((_, i) => verifyCards[i] == c).ToList(), parts.Where(p => p.Card == c).ToList(), allParts))
            .ToList();
        string bars = string.Create(CultureInfo.InvariantCulture,
            $"ours ÷ torch._grouped_mm (same loop) ≥ 1.0 on ≥ {MinShareAtLeastTorch:P0} of rows, no row below {FloorRatio}, " +
            $"geometric mean ≥ {MinGeometricMean}; decode rows moving ≥ 256 MB at ≥ {MinHbmFraction:P0} of the HBM floor; every float64 check passes");
        return new SweepResultsFile(SweepResultsFile.SchemaName,
            DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), bars, BytesMovedFormula, cards, parts,
            rows, checks);
    }

    private static IEnumerable<SweepRow> PartRows(SweepPlanFile plan, ProblemFile problems, ResultsFile? torch, string card, double? bandwidth)
    {
        var byId = problems.Problems.ToDictionary(p => p.Id);
        var groups = (torch?.Groups ?? []).ToDictionary(g => (g.Problem, g.Dtype, g.Form));
        foreach (PlannedRun run in plan.Runs)
        {
            Problem p = byId.TryGetValue(run.Problem, out Problem? found)
                ? found
                : throw new InvalidDataException($"plan {plan.Part}: run names '{run.Problem}', which problems.json lacks.");
            groups.TryGetValue((run.Problem, run.Dtype, run.Form), out ResultGroup? g);
            yield return Row(p, run.Dtype, run.Form, card, plan.Part, g, bandwidth, torch?.Settings.Iters);
        }

        foreach (SkippedRun s in plan.Skipped)
        {
            Problem p = byId[s.Problem];
            yield return Blank(p, s.Dtype, s.Form, card, plan.Part, "skipped", s.Reason);
        }
    }

    private static SweepRow Row(Problem p, string dtype, string form, string card, string part, ResultGroup? g, double? bandwidth, int? iters)
    {
        if (g is null) return Blank(p, dtype, form, card, part, "missing", "no timing: the part did not run this group (see its log)");
        SeriesResult? ours = g.Series.FirstOrDefault(s => s.Kind == SeriesKinds.OursInProcess);
        SeriesResult? torch = g.Series.FirstOrDefault(s => s.Kind == SeriesKinds.TorchGroupedMm);
        SeriesResult? dense = g.Series.FirstOrDefault(s => s.Kind == SeriesKinds.Dense);
        double? oursMs = Ms(ours), torchMs = Ms(torch), denseMs = Ms(dense);
        bool decode = SweepProblems.IsDecode(p);
        long? bytes = decode ? SweepProblems.BytesMoved(p, form, dtype == "fp32" ? 4 : 2) : null;
        string timing = g.Timing ?? "eager";  // files from before graph timing have none: they were timed eagerly
        // The floor is about ours' device time: where the group fell back to eager timing, ours alone from a graph.
        double? floorMs = ours?.GraphAloneMedianMs ?? oursMs;
        double? floor = decode && floorMs is double fm && fm > 0 && bandwidth is double bw && bw > 0
            ? Math.Round(bytes!.Value / (bw * 1e9) / (fm * 1e-3), 4)
            : null;
        string status = ours is null ? "missing" : ours.HasTiming ? SeriesStatus.Ok : ours.Status;
        string note = string.Join("; ", new[] { ours, torch, dense }
            .Where(s => s is not null && s.Status != SeriesStatus.Ok)
            .Select(s => $"{s!.Name}: {s.Status} ({s.Note})"));
        return new SweepRow(p.Model ?? p.Config, p.Id, p.Projection ?? "", p.Tokens, p.Routing, form, dtype, card, part, p.M, p.K, p.N,
            p.Experts, SweepProblems.NonEmptyExperts(p), status, note, oursMs, torchMs, denseMs,
            Ratio(torchMs, oursMs), Ratio(denseMs, oursMs), decode, bytes, decode ? bandwidth : null, floor,
            ours?.ResolvedBackend, ours?.CheckedRelError, ours?.TimesMs is { Count: > 0 } timed ? timed.Count : iters)
        {
            Timing = timing,
            HbmFloorTiming = floor is null ? null : ours?.GraphAloneMedianMs is not null ? "graph (ours alone)" : timing,
        };
    }

    private static SweepRow Blank(Problem p, string dtype, string form, string card, string part, string status, string note) =>
        new(p.Model ?? p.Config, p.Id, p.Projection ?? "", p.Tokens, p.Routing, form, dtype, card, part, p.M, p.K, p.N, p.Experts,
            SweepProblems.NonEmptyExperts(p), status, note, null, null, null, null, null, SweepProblems.IsDecode(p), null, null, null,
            null, null, null);

    /// <summary>The verdicts of one card.</summary>
    public static SweepCardSummary Summarise(string card, IReadOnlyList<SweepRow> rows, IReadOnlyList<VerifyResult> checks,
        IReadOnlyList<SweepPartRun> parts, IReadOnlyList<string>? allParts = null)
    {
        var notRun = (allParts ?? []).Except(parts.Select(p => p.Part)).ToList();
        var ratios = rows.Where(r => r.OursOverTorch is not null).Select(r => r.OursOverTorch!.Value).ToList();
        int atLeast = ratios.Count(r => r >= 1.0);
        int below = ratios.Count(r => r < FloorRatio);
        double? geomean = ratios.Count > 0 ? Math.Round(Math.Exp(ratios.Average(Math.Log)), 4) : null;
        var large = rows.Where(r => r.Decode && r.BytesMoved >= DecodeLargeBytes && r.HbmFloorFraction is not null).ToList();
        int atFloor = large.Count(r => r.HbmFloorFraction >= MinHbmFraction);
        int skipped = rows.Count(r => r.Status == "skipped");
        int without = rows.Count(r => r.Status != "skipped" && r.OursOverTorch is null);
        double? share = ratios.Count > 0 ? Math.Round((double)atLeast / ratios.Count, 4) : null;
        var bandwidths = parts.Where(p => p.CopyBandwidthGbs is not null).Select(p => p.CopyBandwidthGbs!.Value).ToList();
        double? bandwidth = bandwidths.Count > 0 ? Math.Round(TimedCaseMedian(bandwidths), 1) : null;
        var libraries = parts.Select(p => p.LibraryKey).Distinct().ToList();
        bool meets = ratios.Count > 0 && without == 0 && share >= MinShareAtLeastTorch && below == 0 && geomean >= MinGeometricMean
                     && atFloor == large.Count && checks.All(c => c.Passed) && notRun.Count == 0 && libraries.Count <= 1;
        return new SweepCardSummary(card, rows.Count, ratios.Count, atLeast, share, below, geomean, large.Count, atFloor, skipped,
            without, checks.Count, checks.Count(c => !c.Passed), bandwidth, meets) { PartsNotRun = notRun, Libraries = libraries };
    }

    private static double TimedCaseMedian(List<double> values) => Running.TimedCase.Median(values);

    private static double? Ms(SeriesResult? s) => s is { HasTiming: true } ? s.MedianMs : null;

    private static double? Ratio(double? other, double? ours) =>
        other is double o && ours is double u && u > 0 ? Math.Round(o / u, 4) : null;

    private static double? Number(IReadOnlyDictionary<string, string>? env, string key) =>
        env is not null && env.TryGetValue(key, out string? v)
        && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;

    private static T Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            return System.Text.Json.JsonSerializer.Deserialize(stream, info) ?? throw new InvalidDataException($"{path}: JSON null.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not a sweep file ({e.Message}).", e);
        }
    }
}
