using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Sweep;

namespace GroupedGemm.Tests.Bench;

/// <summary>
/// Test fixture in the manner of bench/fixtures/synthetic_results.py: SYNTHETIC part folders (plan.json, problems.json
/// and made-up torch.json / verify.json) for checking the sweep's merge and report without a GPU. The card is named
/// "SYNTHETIC … (fixture, not a measurement)"; never copy the output into docs/.
/// </summary>
internal static class SyntheticSweep
{
    /// <summary>The card name every synthetic file carries.</summary>
    public const string Card = "SYNTHETIC H100 (fixture, not a measurement)";

    /// <summary>The copy bandwidth the synthetic parts claim, GB/s.</summary>
    public const double CopyBandwidthGbs = 3000;

    /// <summary>
    /// Writes <paramref name="part"/> into <paramref name="folder"/>. Ours' speed ratio against torch is drawn from
    /// 0.8 to 1.3; the group named by <paramref name="dropGroup"/> is left out (a part cut short) and
    /// <paramref name="failGroup"/> has ours in status error. One float64 check fails when <paramref name="failCheck"/>.
    /// </summary>
    public static void Write(SweepPart part, string folder, int seed, PlannedRun? dropGroup = null, PlannedRun? failGroup = null,
        bool failCheck = false, bool graphTimedDecode = false, bool fp16CaptureFails = false)
    {
        Directory.CreateDirectory(folder);
        var problems = new ProblemFile(ProblemFile.SchemaName, SweepProblems.Seed, new RotationRule(2, 1L << 30), part.Problems);
        BenchJson.Write(Path.Combine(folder, "problems.json"), problems, BenchJson.Default.ProblemFile);
        BenchJson.Write(Path.Combine(folder, "plan.json"), SweepPlanFile.From(part), BenchJson.Default.SweepPlanFile);
        var byId = part.Problems.ToDictionary(p => p.Id);
        var rng = new Random(seed);
        var groups = new List<ResultGroup>();
        foreach (PlannedRun run in part.Runs)
        {
            if (run == dropGroup) continue;
            Problem p = byId[run.Problem];
            double flops = p.Flops;
            double torchMs = Math.Max(0.005, flops / 500e12 * 1e3);
            double ratio = 0.8 + (0.5 * rng.NextDouble());
            var series = new List<SeriesResult>
            {
                Timed("torch._grouped_mm", SeriesKinds.TorchGroupedMm, torchMs, flops),
                Timed("torch.matmul (dense, equal FLOPs)", SeriesKinds.Dense, torchMs * 0.9, flops),
                run == failGroup
                    ? new SeriesResult("ours (Auto, device counts, same loop)", SeriesKinds.OursInProcess, SeriesStatus.Error,
                        "gg_gmm: synthetic failure", [], null, null) { Backend = "auto", Counts = "device" }
                    : Timed("ours (Auto, device counts, same loop)", SeriesKinds.OursInProcess, torchMs / ratio, flops) with
                    {
                        Backend = "auto", ResolvedBackend = "cutlass-sm90", Counts = "device", CheckedRelError = 0.002,
                    },
            };
            // As sweep_part.py writes them: decode groups "graph x10" when graph timing is on, others "eager"; without
            // it, no field (the files before graph timing).
            string? timing = graphTimedDecode ? (SweepProblems.IsDecode(p) ? "graph x10" : "eager") : null;
            // With fp16CaptureFails, as torch's fp16 grouped mm makes them: fp16 decode groups back to eager timing, and
            // ours replayed alone from a graph, 0.8 of its eager time.
            if (graphTimedDecode && fp16CaptureFails && SweepProblems.IsDecode(p) && run.Dtype == "fp16" && run != failGroup)
            {
                timing = "eager (capture failed: synthetic)";
                series[2] = series[2] with { GraphAloneMedianMs = series[2].MedianMs * 0.8 };
            }

            groups.Add(new ResultGroup(run.Problem, run.Dtype, run.Form, flops, 2, series) { Timing = timing });
        }

        var env = new Dictionary<string, string>
        {
            ["device"] = Card, ["torch"] = "synthetic", ["groupedgemm_inprocess"] = "libgroupedgemm.so (synthetic fixture)",
            ["copy_bandwidth_gbs"] = CopyBandwidthGbs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var settings = new RunSettings(part.Warmup, part.Iters, SweepProblems.Seed, "synthetic");
        BenchJson.Write(Path.Combine(folder, "torch.json"),
            new ResultsFile(ResultsFile.SchemaName, "synthetic fixture (sweep)", env, settings, groups), BenchJson.Default.ResultsFile);
        var checks = part.VerifySample.Select((id, i) => new VerifyResult(id, part.Dtypes[0], part.Forms[0], "auto (device counts)",
            failCheck && i == 0 ? 0.5 : 0.003, 0.02, !(failCheck && i == 0))).ToList();
        BenchJson.Write(Path.Combine(folder, "verify.json"),
            new ResultsFile(ResultsFile.SchemaName, "synthetic fixture (sweep verify)", env, settings, []) { Verification = checks },
            BenchJson.Default.ResultsFile);
    }

    private static SeriesResult Timed(string name, string kind, double ms, double flops) =>
        new(name, kind, SeriesStatus.Ok, "", [ms, ms * 1.01, ms * 0.99], ms, Math.Round(flops / (ms * 1e-3) / 1e12, 3));
}
