using GroupedGemm.Bench.Model;
using ScottPlot;

namespace GroupedGemm.Bench.Reporting;

/// <summary>
/// The report's picture: for one element type, one panel per form, grouped bars of TFLOP/s per configuration and
/// routing, one bar per series (ours, ours in PyTorch's loop when timed, torch._grouped_mm, dense of equal FLOPs, padded bmm).
/// </summary>
internal static class PlotReport
{
    private const int Width = 1800;
    private const int PanelHeight = 520;

    /// <param name="Optional">Drawn only when some row of the panel set has the series.</param>
    private sealed record Series(string Label, Color Color, Func<ReportRow, SeriesResult?> Pick, bool Optional = false);

    // Ours in blues, the baselines in the next Category10 colours: the eye pairs the blues first.
    private static readonly Series[] AllColumns =
    [
        new("ours (Auto)", Color.FromHex("#1f77b4"), r => r.Ours),
        new("ours (Auto, in PyTorch's loop)", Color.FromHex("#08306b"), r => r.OursSameLoop, Optional: true),
        new("ours, fastest backend", Color.FromHex("#9ecae1"), r => r.OursBest),
        new("torch._grouped_mm", Color.FromHex("#ff7f0e"), r => r.Torch),
        new("dense, equal FLOPs (our run)", Color.FromHex("#2ca02c"), r => r.OursDense),
        new("padded bmm (useful FLOPs)", Color.FromHex("#d62728"), r => r.Padded),
    ];

    /// <summary>
    /// Uses the font file at <paramref name="fontPath"/> for all text (machines without system fonts render
    /// no text otherwise).
    /// </summary>
    public static void UseFont(string fontPath)
    {
        if (!File.Exists(fontPath)) throw new FileNotFoundException($"--font: no file '{fontPath}'.", fontPath);
        const string name = "BenchFont";
        Fonts.AddFontFile(name, fontPath, bold: false, italic: false);
        Fonts.AddFontFile(name, fontPath, bold: true, italic: false);
        Fonts.Default = name;
    }

    /// <summary>Writes the PNG for the rows of one element type.</summary>
    public static void Save(string path, string dtype, IReadOnlyList<ReportRow> rows, string deviceName)
    {
        var forms = Forms.All.Where(f => rows.Any(r => r.Form == f)).ToList();
        Series[] columns = AllColumns.Where(c => !c.Optional || rows.Any(r => c.Pick(r) is not null)).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(forms.Count);
        for (int i = 0; i < forms.Count; i++)
        {
            var formRows = rows.Where(r => r.Form == forms[i]).ToList();
            Draw(multiplot.GetPlot(i), columns, formRows, $"{dtype} {Forms.PlotTitle(forms[i])}  ({deviceName})", legend: i == 0);
        }

        multiplot.SavePng(path, Width, PanelHeight * forms.Count);
    }

    private static void Draw(Plot plot, Series[] columns, List<ReportRow> rows, string title, bool legend)
    {
        int seriesCount = columns.Length;
        double groupWidth = seriesCount + 1.0;
        var ticks = new List<Tick>();
        double highest = 0;
        for (int g = 0; g < rows.Count; g++)
        {
            double left = g * groupWidth;
            for (int s = 0; s < seriesCount; s++)
            {
                SeriesResult? result = columns[s].Pick(rows[g]);
                double x = left + s;
                if (result is { HasTiming: true })
                {
                    double value = result.Tflops!.Value;
                    highest = Math.Max(highest, value);
                    plot.Add.Bar(new Bar { Position = x, Value = value, FillColor = columns[s].Color, Size = 0.9 });
                }
                else if (result is not null && result.Status != SeriesStatus.Ok)
                {
                    // Say why the bar is missing instead of leaving a gap that reads as zero.
                    var text = plot.Add.Text(Short(result.Status), x, 0);
                    text.LabelFontSize = 11;
                    text.LabelRotation = -90;
                    text.LabelFontColor = columns[s].Color;
                    text.LabelAlignment = Alignment.MiddleLeft;
                }
            }

            ticks.Add(new Tick(left + (seriesCount - 1) / 2.0, $"{rows[g].Problem.Config}\n{rows[g].Problem.Routing}"));
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.Label.Text = "TFLOP/s (median)";
        plot.Axes.Title.Label.Text = title;
        plot.Axes.Title.Label.FontSize = 16;
        plot.Axes.SetLimits(-1, rows.Count * groupWidth - 1, 0, Math.Max(1, highest) * (legend ? 1.25 : 1.08));
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        if (legend)
        {
            for (int s = 0; s < seriesCount; s++)
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = columns[s].Label, FillColor = columns[s].Color });
            plot.Legend.IsVisible = true;
            plot.Legend.Orientation = Orientation.Horizontal;
            plot.Legend.Alignment = Alignment.UpperCenter;
            plot.Legend.FontSize = 13;
        }
    }

    private static string Short(string status) => status switch
    {
        SeriesStatus.OutOfMemory => "OOM",
        SeriesStatus.NotCompiled => "not built",
        SeriesStatus.Unsupported => "unsupported",
        _ => status,
    };
}
