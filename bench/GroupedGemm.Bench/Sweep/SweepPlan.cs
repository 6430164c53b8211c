using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;

namespace GroupedGemm.Bench.Sweep;

/// <summary>One timed group of a part: a problem in one element type and form.</summary>
internal sealed record PlannedRun(string Problem, string Dtype, string Form);

/// <summary>A group left out before timing, with the reason (never silently).</summary>
internal sealed record SkippedRun(string Problem, string Dtype, string Form, string Reason, double EstimatedGib);

/// <summary>
/// A part of the sweep: the problems of one model (or of one model and form, or model, form and element type when
/// the whole would not fit <see cref="SweepPlanner.PartBudgetSeconds"/>), timed with its own iteration counts.
/// </summary>
internal sealed record SweepPart(
    int Index, string Name, string Model, IReadOnlyList<string> Forms, IReadOnlyList<string> Dtypes, int Iters, int Warmup,
    IReadOnlyList<Problem> Problems, IReadOnlyList<PlannedRun> Runs, IReadOnlyList<SkippedRun> Skipped,
    IReadOnlyList<string> VerifySample, double EstimatedSeconds);

/// <summary>The plan of one part as written for the runner (bench/sweep/sweep_part.py) and the report.</summary>
internal sealed record SweepPlanFile(
    string Schema, string Part, int Index, string Model, IReadOnlyList<string> Forms, IReadOnlyList<string> Dtypes,
    int Iters, int Warmup, double EstimatedSeconds, string CostModel, IReadOnlyList<PlannedRun> Runs,
    IReadOnlyList<SkippedRun> Skipped, IReadOnlyList<string> VerifySample)
{
    /// <summary>The schema written.</summary>
    public const string SchemaName = "groupedgemm-sweep-plan/1";

    /// <summary>The file form of a part.</summary>
    public static SweepPlanFile From(SweepPart p) => new(SchemaName, p.Name, p.Index, p.Model, p.Forms, p.Dtypes, p.Iters,
        p.Warmup, Math.Round(p.EstimatedSeconds), SweepPlanner.CostModelText, p.Runs, p.Skipped, p.VerifySample);
}

/// <summary>
/// Splits the sweep into parts that each run under ten minutes on one H100, chooses their iteration counts (fewer
/// iterations, never fewer problems) and lists the groups that cannot fit the card's memory.
/// </summary>
internal static class SweepPlanner
{
    /// <summary>Element types, in order.</summary>
    public static readonly string[] Dtypes = ["bf16", "fp16"];

    /// <summary>Estimated seconds a part may take: ten minutes less a margin for the model's error.</summary>
    public const double PartBudgetSeconds = 420;

    /// <summary>(timed iterations, warm-up rounds), best first; a part takes the first that fits its budget.</summary>
    public static readonly (int Iters, int Warmup)[] IterationLadder = [(30, 5), (20, 3), (15, 3), (10, 2), (7, 2), (5, 1)];

    /// <summary>Device memory the plan assumes (an H100's 80 GB = 74.5 GiB usable is less; the 78 GiB bound is kept as stated).</summary>
    public const double CardGib = 78;

    /// <summary>Kept free for the CUDA context, cuBLAS workspaces and allocator fragmentation.</summary>
    public const double ReserveGib = 6;

    // Cost model of one H100 (deliberately slow-side, so that real parts finish sooner than estimated).
    private const double FlopsPerSecond = 400e12;   // grouped and dense bf16/fp16 GEMMs, large shapes
    private const double BytesPerSecond = 2.0e12;   // memory-bound calls (decode)
    private const double CallOverheadSeconds = 50e-6; // Python + ctypes + two event records per timed call
    private const double GroupOverheadSeconds = 0.25; // allocation, random fill, probe, synchronisations, log line
    private const double FillBytesPerSecond = 300e9;  // torch.randn into bf16
    private const double PartOverheadSeconds = 45;   // python/torch import, CUDA init, library load, copy bandwidth
    private const double VerifyProcessSeconds = 20;  // .NET start, context
    private const double VerifyCheckSeconds = 1.0;   // one shrunk problem: device call plus float64 CPU reference

    /// <summary>The cost model, in words, for the plan file and the report.</summary>
    public const string CostModelText =
        "per call max(2MKN / 400 TFLOP/s, bytes moved / 2.0 TB/s) + 50 us; per group 3 series x (1 probe + warmup + iters) " +
        "+ 2 check calls, + 0.25 s + operand bytes / 300 GB/s; per part + 45 s (start, copy bandwidth) + 20 s + 1 s per float64 check";

    /// <summary>Every part, in order (index = position).</summary>
    public static List<SweepPart> Parts(SweepModelFile models)
    {
        var parts = new List<SweepPart>();
        foreach (SweepModel model in models.Models)
        {
            var problems = SweepProblems.ForModel(model).ToList();
            foreach (var (name, forms, dtypes) in Splits(model.Name, problems))
                parts.Add(Build(parts.Count, name, model.Name, problems, forms, dtypes));
        }

        return parts;
    }

    /// <summary>Finds a part by name or index.</summary>
    public static SweepPart Find(IReadOnlyList<SweepPart> parts, string nameOrIndex)
    {
        if (int.TryParse(nameOrIndex, out int index))
        {
            if (index < 0 || index >= parts.Count)
                throw new ArgumentException($"--part {index}: the index must be 0 to {parts.Count - 1}.");
            return parts[index];
        }

        return parts.FirstOrDefault(p => p.Name == nameOrIndex)
               ?? throw new ArgumentException($"--part '{nameOrIndex}': no such part (--list-parts lists them).");
    }

    /// <summary>The coarsest split whose parts fit the budget at 10 iterations or more; else the finest.</summary>
    private static IEnumerable<(string Name, string[] Forms, string[] Dtypes)> Splits(string model, List<Problem> problems)
    {
        var whole = new[] { (model, Forms.All, Dtypes) };
        var byForm = Forms.All.Select(f => ($"{model}/{f}", new[] { f }, Dtypes)).ToArray();
        var byFormDtype = Forms.All.SelectMany(f => Dtypes.Select(d => ($"{model}/{f}/{d}", new[] { f }, new[] { d }))).ToArray();
        foreach (var split in new[] { whole, byForm })
        {
            if (split.All(s => Estimate(problems, s.Item2, s.Item3, 10, 2) <= PartBudgetSeconds)) return split;
        }

        return byFormDtype;
    }

    private static SweepPart Build(int index, string name, string model, List<Problem> problems, string[] forms, string[] dtypes)
    {
        var (iters, warmup) = IterationLadder.FirstOrDefault(l => Estimate(problems, forms, dtypes, l.Iters, l.Warmup) <= PartBudgetSeconds);
        if (iters == 0) (iters, warmup) = IterationLadder[^1];
        var runs = new List<PlannedRun>();
        var skipped = new List<SkippedRun>();
        foreach (Problem p in problems)
        {
            foreach (string dtype in dtypes)
            {
                foreach (string form in forms)
                {
                    double gib = MemoryBytes(p, form) / (double)(1L << 30);
                    if (gib > CardGib - ReserveGib)
                        skipped.Add(new SkippedRun(p.Id, dtype, form,
                            $"needs about {gib:F1} GiB (operands, our output, torch's and the dense output, the check's reference), " +
                            $"more than {CardGib - ReserveGib:F0} GiB ({CardGib:F0} GiB less {ReserveGib:F0} GiB reserve)", Math.Round(gib, 1)));
                    else
                        runs.Add(new PlannedRun(p.Id, dtype, form));
                }
            }
        }

        return new SweepPart(index, name, model, forms, dtypes, iters, warmup, problems, runs, skipped,
            VerifySample(problems), Estimate(problems, forms, dtypes, iters, warmup));
    }

    /// <summary>
    /// The float64 sample: for each projection and routing, the problem with the fewest and the one with the most
    /// tokens (the verifier shrinks them, keeping the skew of the counts and K, N modulo 256).
    /// </summary>
    public static List<string> VerifySample(IReadOnlyList<Problem> problems) =>
        problems.GroupBy(p => (p.Projection, p.Routing))
            .SelectMany(g => new[] { g.MinBy(p => p.Tokens)!, g.MaxBy(p => p.Tokens)! })
            .Select(p => p.Id).Distinct().ToList();

    /// <summary>Estimated seconds of a part (see <see cref="CostModelText"/>).</summary>
    public static double Estimate(IReadOnlyList<Problem> problems, IReadOnlyList<string> forms, IReadOnlyList<string> dtypes, int iters, int warmup)
    {
        double seconds = PartOverheadSeconds + VerifyProcessSeconds;
        int callsPerGroup = (3 * (1 + warmup + iters)) + 2;
        foreach (Problem p in problems)
        {
            foreach (string form in forms)
            {
                double call = Math.Max(2.0 * p.M * p.K * p.N / FlopsPerSecond, SweepProblems.BytesMoved(p, form, 2) / BytesPerSecond)
                              + CallOverheadSeconds;
                double group = GroupOverheadSeconds + (MemoryBytes(p, form) / FillBytesPerSecond) + (callsPerGroup * call);
                seconds += dtypes.Count * group;
            }
        }

        int sampled = VerifySample(problems).Count;
        return seconds + (sampled * forms.Count * dtypes.Count * VerifyCheckSeconds);
    }

    /// <summary>
    /// Peak device bytes of one group in torch_baseline.py (bf16/fp16): the rotated input sets, our preallocated
    /// output, one transient output of torch._grouped_mm or the dense GEMM (the caching allocator hands the same block
    /// to each), the check's reference output, the dense weight and the check's float64 blocks.
    /// </summary>
    public static long MemoryBytes(Problem p, string form)
    {
        const long element = 2;
        long x = p.M * p.K;
        long second = form == Forms.WeightGrad ? p.M * p.N : p.Experts * p.K * p.N;
        long output = form == Forms.WeightGrad ? p.Experts * p.K * p.N : p.M * p.N;
        long setBytes = (x + second) * element;
        long sets = setBytes > (1L << 30) ? 1 : 2;  // problems.SINGLE_SET_ABOVE_BYTES, DEFAULT_BUFFER_SETS
        long denseB = form == Forms.WeightGrad ? 0 : p.K * p.N;
        long checkBlocks = 3L * 8 * Math.Min(output, 1L << 24);
        return ((sets * (x + second)) + (3 * output) + denseB) * element + checkBlocks;
    }
}
