using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Reporting;

/// <summary>Joins the problem file, the PyTorch results and ours into <see cref="ReportRow"/>s.</summary>
internal static class ReportBuilder
{
    /// <summary>
    /// The rows, in problem-file order, then element type, then form. A (problem, dtype, form) appears when
    /// either results file has it; a side that lacks it shows as missing.
    /// </summary>
    public static IReadOnlyList<ReportRow> Build(ProblemFile problems, ResultsFile? torch, ResultsFile? ours)
    {
        var torchGroups = Index(torch);
        var oursGroups = Index(ours);
        var dtypes = torchGroups.Keys.Concat(oursGroups.Keys).Select(k => k.Dtype).Distinct().ToList();
        var rows = new List<ReportRow>();
        foreach (Problem problem in problems.Problems)
        {
            foreach (string dtype in dtypes)
            {
                SeriesResult? forward = null;
                foreach (string form in Forms.All)
                {
                    var key = (problem.Id, dtype, form);
                    torchGroups.TryGetValue(key, out ResultGroup? t);
                    oursGroups.TryGetValue(key, out ResultGroup? o);
                    if (t is null && o is null) continue;
                    IReadOnlyList<SeriesResult> oursAll = o?.Series.Where(s => s.Kind == SeriesKinds.Ours).ToList() ?? [];
                    var row = new ReportRow(
                        problem, dtype, form,
                        Ours: PrimaryOurs(oursAll),
                        OursAll: oursAll,
                        OursDense: First(o, SeriesKinds.Dense),
                        Torch: First(t, SeriesKinds.TorchGroupedMm),
                        TorchDense: First(t, SeriesKinds.Dense),
                        Padded: First(t, SeriesKinds.PaddedBmm))
                    {
                        OursSameLoop = First(t, SeriesKinds.OursInProcess),
                        Forward = form == Forms.WeightGrad ? forward : null,
                    };
                    if (form == Forms.Forward) forward = row.Ours;
                    rows.Add(row);
                }
            }
        }

        return rows;
    }

    /// <summary>
    /// The series the bars judge: Auto with device-resident counts (what a graph-captured MoE layer uses, and
    /// what torch._grouped_mm gets: offsets on the device), else Auto with host counts.
    /// </summary>
    public static SeriesResult? PrimaryOurs(IEnumerable<SeriesResult> ours)
    {
        var auto = ours.Where(s => s.Backend == "auto" && s.HasTiming).ToList();
        return auto.FirstOrDefault(s => s.Counts == "device") ?? auto.FirstOrDefault();
    }

    private static SeriesResult? First(ResultGroup? group, string kind) =>
        group?.Series.FirstOrDefault(s => s.Kind == kind);

    private static Dictionary<(string Problem, string Dtype, string Form), ResultGroup> Index(ResultsFile? file)
    {
        var index = new Dictionary<(string, string, string), ResultGroup>();
        foreach (ResultGroup g in file?.Groups ?? [])
            index[(g.Problem, g.Dtype, g.Form)] = g;
        return index;
    }
}
