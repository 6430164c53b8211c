using ScottPlot;

namespace GroupedGemm.Bench.Sweep;

/// <summary>The sweep's distribution plot: per card, a histogram of ours ÷ torch._grouped_mm, one colour per form.</summary>
internal static class SweepPlot
{
    private const double BinWidth = 0.05;

    private static readonly (string Form, Color Color)[] FormColors =
    [
        (Reporting.Forms.Forward, Color.FromHex("#1f77b4")),
        (Reporting.Forms.ForwardTransB, Color.FromHex("#ff7f0e")),
        (Reporting.Forms.WeightGrad, Color.FromHex("#2ca02c")),
    ];

    /// <summary>Writes the PNG (one panel per card).</summary>
    public static void Save(string path, SweepResultsFile results)
    {
        var cards = results.Cards.Select(c => c.Card).ToList();
        if (cards.Count == 0) cards.Add("no data");
        var multiplot = new Multiplot();
        multiplot.AddPlots(cards.Count);
        for (int i = 0; i < cards.Count; i++)
            Draw(multiplot.GetPlot(i), cards[i], results.Rows.Where(r => r.Card == cards[i] && r.OursOverTorch is not null).ToList());
        multiplot.SavePng(path, 1400, 520 * cards.Count);
    }

    private static void Draw(Plot plot, string card, List<SweepRow> rows)
    {
        double highest = 1;
        if (rows.Count > 0)
        {
            int lo = (int)Math.Floor(rows.Min(r => r.OursOverTorch!.Value) / BinWidth);
            int hi = (int)Math.Floor(rows.Max(r => r.OursOverTorch!.Value) / BinWidth);
            var stacked = new double[hi - lo + 1];
            foreach (var (form, color) in FormColors)
            {
                var counts = new double[hi - lo + 1];
                foreach (SweepRow r in rows.Where(r => r.Form == form)) counts[(int)Math.Floor(r.OursOverTorch!.Value / BinWidth) - lo]++;
                for (int b = 0; b < counts.Length; b++)
                {
                    if (counts[b] == 0) continue;
                    plot.Add.Bar(new Bar
                    {
                        Position = (lo + b + 0.5) * BinWidth, ValueBase = stacked[b], Value = stacked[b] + counts[b],
                        FillColor = color, Size = BinWidth * 0.95,
                    });
                    stacked[b] += counts[b];
                }
            }

            highest = Math.Max(1, stacked.Max());
        }

        foreach (double x in new[] { SweepMerge.FloorRatio, 1.0, SweepMerge.MinGeometricMean })
        {
            var line = plot.Add.VerticalLine(x);
            line.LineColor = x == 1.0 ? Colors.Black : Colors.Gray;
            line.LinePattern = x == 1.0 ? LinePattern.Solid : LinePattern.Dashed;
        }

        foreach (var (form, color) in FormColors)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = form, FillColor = color });
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.Axes.Bottom.Label.Text = "ours ÷ torch._grouped_mm (same loop; bins of 0.05; lines at 0.9, 1.0, 1.1)".Replace("÷", "/", StringComparison.Ordinal);
        plot.Axes.Left.Label.Text = "rows";
        plot.Axes.Title.Label.Text = $"{card}: {rows.Count} rows";
        plot.Axes.SetLimitsY(0, highest * 1.15);
    }
}
