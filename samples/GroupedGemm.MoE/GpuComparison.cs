using System.Diagnostics;
using Spectre.Console;

namespace GroupedGemm.MoE;

/// <summary>
/// The seed's comparison on a GPU: the grouped-GEMM path against the padded-BMM path (correctness against each other
/// and against the float64 reference, median time per forward, peak activation memory), printed as a table with a
/// verdict on the seed's claims.
/// </summary>
internal static class GpuComparison
{
    private const string FallbackWarning =
        "WARNING: grouped_gemm requested but not available. Falling back to standard vectorized implementation.";

    public static int Run(MoeOptions o)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(o.Describe())}[/]");
        CudaDeviceProperties device = CudaDevice.GetProperties(CudaDevice.Current);
        AnsiConsole.MarkupLine($"Device {device.Ordinal}: {Markup.Escape(device.Name)} (compute capability {device.ComputeCapability})");
        using var context = new GroupedGemmContext(CudaDevice.Current);
        using CudaStream stream = CudaStream.Create();
        using var pool = new DevicePool();

        MoeLayer layer = null!;
        float[] x = null!;
        AnsiConsole.Status().Start("Initialising parameters from the seed...", _ =>
        {
            layer = new MoeLayer(o, onDevice: true);
            x = HostValues.Uniform(new Random(unchecked(o.Seed + 1)), (long)o.Tokens * o.EmbedDim, 1, o.DType);
        });
        using (layer)
        using (DeviceTensor xDevice = HostValues.Upload(x, o.DType, o.Tokens, o.EmbedDim))
        {
            // Uploads went through the legacy default stream, which the non-blocking stream does not wait for.
            CudaDevice.Synchronize();
            bool grouped = GroupedGemmProbe.IsAvailable(context, o.DType, stream, out string? why);
            if (!grouped)
            {
                AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(FallbackWarning)}[/]");
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(why ?? "")}[/]");
            }

            var paths = new List<(string Name, Func<DeviceTensor> Forward)>();
            if (grouped) paths.Add(("grouped GEMM", () => layer.ForwardGrouped(context, xDevice, pool, stream)));
            paths.Add(("padded BMM", () => layer.ForwardPadded(context, xDevice, pool, stream)));
            if (o.Fp8Experts) paths.Add((Fp8PathName, () => layer.ForwardGroupedFp8(context, xDevice, pool, stream)));

            var results = new List<PathResult>();
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
                .Start(progress =>
                {
                    foreach ((string name, Func<DeviceTensor> forward) in paths)
                    {
                        ProgressTask task = progress.AddTask(Markup.Escape(name), maxValue: 1 + o.Warmup + o.Iterations);
                        results.Add(Measure(name, forward, o, pool, stream, task));
                    }
                });

            int[] routing = layer.DeviceRouting(context, xDevice, pool, stream);
            Reference reference = ComputeReference(layer, x, routing, o, fp8Experts: false);
            Reference? fp8Reference = o.Fp8Experts ? ComputeReference(layer, x, routing, o, fp8Experts: true) : null;
            Report(o, results, reference, fp8Reference);
        }

        return 0;
    }

    private static PathResult Measure(string name, Func<DeviceTensor> forward, MoeOptions o, DevicePool pool, CudaStream stream, ProgressTask task)
    {
        // First forward: output for the error checks and the peak memory (warms the pool's cache too).
        stream.Synchronize();
        long before = pool.LiveBytes;
        pool.ResetPeak();
        DeviceTensor first = forward();
        long peak = pool.PeakBytes - before;
        float[] output = HostValues.Download(first, stream);
        pool.Return(first);
        task.Increment(1);

        for (int i = 0; i < o.Warmup; i++)
        {
            pool.Return(forward());
            task.Increment(1);
        }

        stream.Synchronize();
        var times = new double[o.Iterations];
        using CudaEvent start = CudaEvent.Create(), end = CudaEvent.Create();
        for (int i = 0; i < o.Iterations; i++)
        {
            start.Record(stream);
            DeviceTensor y = forward();
            end.Record(stream);
            end.Synchronize();
            times[i] = CudaEvent.ElapsedMilliseconds(start, end);
            pool.Return(y);
            task.Increment(1);
        }

        Array.Sort(times);
        double median = times.Length == 0 ? double.NaN : times[times.Length / 2];
        return new PathResult(name, output, median, peak);
    }

    /// <summary>The float64 reference on an evenly spaced sub-sample of tokens, with the device's routing.</summary>
    private sealed record Reference(int[] Tokens, double[][] Outputs, int RoutingDisagreements, double Seconds);

    private static Reference ComputeReference(MoeLayer layer, float[] x, int[] routing, MoeOptions o, bool fp8Experts)
    {
        int count = Math.Min(o.Tokens, Math.Max(1, o.ReferenceTokens));
        int[] tokens = Enumerable.Range(0, count).Select(i => (int)((long)i * o.Tokens / count)).ToArray();
        var outputs = new double[count][];
        int disagreements = 0;
        var watch = Stopwatch.StartNew();
        string what = fp8Experts ? "float64 emulation of the FP8 experts" : "float64 reference";
        AnsiConsole.Status().Start($"{what} on {count} of {o.Tokens} tokens...", status =>
        {
            Parallel.For(0, count, i =>
            {
                int t = tokens[i];
                double[] row = x.AsSpan(t * o.EmbedDim, o.EmbedDim).ToArray().Select(v => (double)v).ToArray();
                (double[] output, bool agrees, _) = layer.Reference(row, t, routing.AsSpan(t * o.TopK, o.TopK), fp8Experts);
                outputs[i] = output;
                if (!agrees) Interlocked.Increment(ref disagreements);
            });
        });
        return new Reference(tokens, outputs, disagreements, watch.Elapsed.TotalSeconds);
    }

    private static double ErrorVsReference(PathResult path, Reference reference, int embedDim)
    {
        var actual = new List<double>();
        var expected = new List<double>();
        for (int i = 0; i < reference.Tokens.Length; i++)
        {
            int t = reference.Tokens[i];
            for (int d = 0; d < embedDim; d++) actual.Add(path.Output[(long)t * embedDim + d]);
            expected.AddRange(reference.Outputs[i]);
        }

        return ReferenceMath.RelativeError(actual.ToArray(), expected.ToArray());
    }

    /// <summary>Acceptable ‖gpu − ref‖/‖ref‖ for a whole layer whose intermediates are rounded to the type.</summary>
    private static double Tolerance(DType dtype) => dtype switch
    {
        DType.Float32 => 1e-3, // cuBLAS may use TF32 for float32
        DType.Float16 => 5e-3,
        _ => 3e-2,
    };

    private const string Fp8PathName = "grouped GEMM, FP8 experts";

    /// <summary>
    /// Acceptable ‖gpu − ref‖/‖ref‖ of the FP8-expert path against the unquantized float64 layer. Its float64 emulation
    /// (<see cref="MoeLayer.Reference(ReadOnlySpan{double}, int, ReadOnlySpan{int}, bool)"/>: E4M3 rounding of the routed
    /// experts' rows and weights, nothing else) is 1.1-1.5e-2 from the float64 layer by itself with row-wise scales
    /// (Fp8ExpertEmulationTests: plain and gated, D 64 and 512; block scales in the same test); the path adds the bf16
    /// roundings of a bf16 layer. The path's own error is its distance from the emulation, held to the bf16 bound.
    /// </summary>
    private const double Fp8Tolerance = 5e-2;

    private static void Report(MoeOptions o, List<PathResult> results, Reference reference, Reference? fp8Reference)
    {
        double bound = Tolerance(o.DType);
        var table = new Table().Title("MoE forward: grouped GEMM vs padded BMM").Border(TableBorder.Rounded);
        table.AddColumn("path");
        table.AddColumn(new TableColumn("median time / forward").RightAligned());
        table.AddColumn(new TableColumn("peak activation memory").RightAligned());
        table.AddColumn(new TableColumn($"rel. error vs float64 ({reference.Tokens.Length} tokens)").RightAligned());
        foreach (PathResult r in results)
        {
            double error = ErrorVsReference(r, reference, o.EmbedDim);
            string verdict = error < (r.Name == Fp8PathName ? Fp8Tolerance : bound) ? "[green]ok[/]" : "[red]too large[/]";
            table.AddRow(Markup.Escape(r.Name), $"{r.MedianMs:F3} ms", $"{r.PeakBytes / 1048576.0:F1} MiB", $"{error:E2} {verdict}");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Bound for {o.DType}: {bound:E0}{(o.Fp8Experts ? $"; for FP8 experts: {Fp8Tolerance:E0}" : "")}. " +
                               $"Reference: {reference.Seconds:F1} s; it used the device's routing; " +
                               $"float64 top-k differs on {reference.RoutingDisagreements} of {reference.Tokens.Length} tokens (near-ties).");
        AnsiConsole.MarkupLine("Peak memory: the sample's tracked allocator (bytes of activation buffers live at once during one " +
                               "forward; parameters and the input excluded; no cudaMalloc inside timed forwards).");

        PathResult? fp8 = results.FirstOrDefault(r => r.Name == Fp8PathName);
        if (fp8 is not null && fp8Reference is not null)
        {
            double parity = ErrorVsReference(fp8, fp8Reference, o.EmbedDim);
            double cost = ReferenceMath.RelativeError(fp8Reference.Outputs.SelectMany(v => v).ToArray(),
                reference.Outputs.SelectMany(v => v).ToArray());
            string verdict = parity < bound ? "[green]ok[/]" : "[red]too large[/]";
            AnsiConsole.MarkupLine($"FP8 experts against their float64 emulation (the same E4M3 rounding of rows and weights): " +
                                   $"{parity:E2} {verdict} (bound {bound:E0}); the emulation against the float64 layer: {cost:E2}, what " +
                                   "E4M3 itself costs.");
        }

        if (fp8 is not null && results[0].Name != "padded BMM")
        {
            double vsBf16 = ReferenceMath.RelativeError(fp8.Output.Select(v => (double)v).ToArray(),
                results[0].Output.Select(v => (double)v).ToArray());
            AnsiConsole.MarkupLine($"FP8 experts against the bf16 grouped layer: relative difference [bold]{vsBf16:E2}[/] " +
                                   $"(all {o.Tokens} tokens); time {fp8.MedianMs / results[0].MedianMs:F2}× the bf16 layer's.");
        }

        if (results.Count(r => r.Name != Fp8PathName) < 2)
        {
            AnsiConsole.MarkupLine("Only the padded path ran: no comparison of the seed's claims.");
            return;
        }

        PathResult g = results[0], p = results[1];
        double between = ReferenceMath.RelativeError(g.Output.Select(v => (double)v).ToArray(), p.Output.Select(v => (double)v).ToArray());
        double speedup = p.MedianMs / g.MedianMs;
        double saving = 1 - (double)g.PeakBytes / p.PeakBytes;
        AnsiConsole.MarkupLine($"Grouped vs padded outputs: relative difference {between:E2} (all {o.Tokens} tokens).");
        AnsiConsole.MarkupLine($"Speed-up of grouped over padded: [bold]{speedup:F2}×[/]; memory saving: [bold]{saving:P1}[/].");
        AnsiConsole.MarkupLine($"Seed claim \"1.5-3x faster\": {Verdict(speedup, 1.5, 3.0, "×")}.");
        AnsiConsole.MarkupLine($"Seed claim \"30-50% less memory\": {Verdict(saving * 100, 30, 50, "%")}.");
    }

    private static string Verdict(double value, double low, double high, string unit) =>
        value < low ? $"[red]does not hold[/] for this run ({value:F1}{unit} < {low}{unit})"
        : value > high ? $"[green]holds and is exceeded[/] ({value:F1}{unit} > {high}{unit})"
        : $"[green]holds[/] ({value:F1}{unit})";
}
