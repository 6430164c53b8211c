using System.Diagnostics;
using Spectre.Console;

namespace GroupedGemm.MoE;

/// <summary>
/// Where no GPU (or no native library) is usable: says why, then runs the float64 reference layer on a small
/// configuration so that the sample still shows the layer's routing and output.
/// </summary>
internal static class CpuOnlyRun
{
    public static int Run(MoeOptions requested, string reason)
    {
        AnsiConsole.MarkupLine("[yellow]The GPU paths cannot run here:[/]");
        AnsiConsole.WriteLine(reason);
        if (requested.Fp8Experts)
        {
            AnsiConsole.MarkupLine("[yellow]--dtype float8: the FP8 experts run on the GPU only; below, the bf16 layer's float64 reference " +
                                   "and the float64 emulation of its FP8 experts.[/]");
        }

        MoeOptions o = requested.SmallCpuConfiguration();
        AnsiConsole.MarkupLine($"Running the float64 CPU reference instead, on a small configuration:\n[bold]{Markup.Escape(o.Describe())}[/]");

        var watch = Stopwatch.StartNew();
        using var layer = new MoeLayer(o, onDevice: false);
        float[] x = HostValues.Uniform(new Random(unchecked(o.Seed + 1)), (long)o.Tokens * o.EmbedDim, 1, o.DType);
        var outputs = new double[o.Tokens][];
        var chosen = new int[o.Tokens][];
        var load = new long[o.NumExperts];
        Parallel.For(0, o.Tokens, t =>
        {
            (outputs[t], _, chosen[t]) = layer.Reference(Row(x, t, o.EmbedDim), t, ReadOnlySpan<int>.Empty);
            foreach (int e in chosen[t]) Interlocked.Increment(ref load[e]);
        });
        watch.Stop();
        double? fp8Cost = null;
        if (o.Fp8Experts)
        {
            // The same tokens through the float64 emulation of the FP8-expert path (the same routing).
            var emulated = new double[o.Tokens][];
            Parallel.For(0, o.Tokens, t => (emulated[t], _, _) = layer.Reference(Row(x, t, o.EmbedDim), t, chosen[t], fp8Experts: true));
            fp8Cost = ReferenceMath.RelativeError(emulated.SelectMany(r => r).ToArray(), outputs.SelectMany(r => r).ToArray());
        }

        double sumSquares = outputs.Sum(r => r.Sum(v => v * v));
        var table = new Table().Title("float64 reference MoE layer (CPU)").Border(TableBorder.Rounded);
        table.AddColumn("quantity");
        table.AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("tokens × embed dim", $"{o.Tokens} × {o.EmbedDim}");
        table.AddRow("output RMS", $"{Math.Sqrt(sumSquares / ((double)o.Tokens * o.EmbedDim)):E4}");
        table.AddRow(Markup.Escape("output[0, 0..3]"), string.Join(", ", outputs[0].Take(4).Select(v => v.ToString("F6", System.Globalization.CultureInfo.InvariantCulture))));
        table.AddRow("tokens per expert", string.Join(" ", load));
        table.AddRow("time (parameters + forward)", $"{watch.Elapsed.TotalMilliseconds:F0} ms");
        if (fp8Cost is double cost) table.AddRow("FP8 experts (float64 emulation) vs this layer", $"{cost:E2} relative");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Time, memory and the grouped-vs-padded comparison need a CUDA GPU and the native library.");
        return 0;
    }

    private static double[] Row(float[] x, int token, int embedDim) =>
        x.AsSpan(token * embedDim, embedDim).ToArray().Select(v => (double)v).ToArray();
}
