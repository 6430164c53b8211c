using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace GroupedGemm.MoE.Training;

/// <summary>
/// <c>--bench-train</c>: the trainable GPU layer (<see cref="GpuMoeLayer"/>, the device-only step) timed as
/// bench/moe_training/moe_layer_torch.py times the PyTorch eager layer, at the seed's three sizes (tokens from
/// <c>--batch-size</c> × <c>--seq-len</c>, 2048 by default; E 80, top-8, one shared expert, <c>--dtype</c> bf16), uniform
/// and Zipf routing, plain (GELU, biases) and gated (SiLU, no biases) experts. The JSON rows carry the PyTorch script's
/// field names (path "groupedgemm-net"), so that bench/moe_training/merge_bench.py can put the two side by side.
/// </summary>
/// <remarks>
/// <para>
/// Timing: CUDA events on the legacy default stream around every call, <c>--warmup</c> untimed calls, the median of
/// <c>--iters</c>. "fwd" is the training forward (it keeps what backward reads, as autograd would not under
/// PyTorch's no_grad); "fwd+bwd" is the forward and the backward of Σ dy ⊙ output with a fixed random dy: gradients of
/// x, every parameter and the router, no load-balancing loss (the PyTorch layer has none).
/// </para>
/// <para>
/// Peak memory ("peak_activation_mib"): every device buffer the step holds, summed from its <see cref="DeviceScratch"/>
/// (activations, gradients of parameters and x, the sort workspace, index maps). The step allocates them on its first
/// call and reuses them, so they are all live at once and their sum is the step's peak above the parameters, x and dy
/// (what PyTorch's max_memory_allocated measures above those). "mem_get_info_delta_mib" is cudaMemGetInfo's drop over
/// the measurement, which also counts the library's own group arrays and the allocator's rounding.
/// </para>
/// </remarks>
internal static class TrainingBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Dictionary<string, (int EmbedDim, int HiddenDim)> Sizes = new()
    {
        ["seed"] = (512, 2048),
        ["small"] = (256, 1024),
        ["large"] = (1024, 4096),
    };

    /// <summary>Measures every row; returns 0, or 2 for an unknown size name.</summary>
    public static int Run(MoeOptions o, string configs, string? jsonPath)
    {
        string[] names = configs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? unknown = names.FirstOrDefault(n => !Sizes.ContainsKey(n));
        if (names.Length == 0 || unknown is not null)
        {
            Console.Error.WriteLine($"--bench-configs '{configs}': unknown size '{unknown}'; use seed, small, large.");
            return 2;
        }

        string card = CudaDevice.GetProperties(0).Name;
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"card: {card}, {o.DType}, tokens {o.Tokens}, E {o.NumExperts}, top-{o.TopK}, shared {o.NumShared}, median of {o.Iterations} after {o.Warmup}"));
        using var context = new GroupedGemmContext(0);
        var rows = new List<Dictionary<string, object>>();
        var table = new Table().AddColumns("config", "routing", "form", "fwd ms", "fwd+bwd ms", "peak act MiB", "memGetInfo Δ MiB");
        foreach (string name in names)
        {
            foreach (Routing routing in new[] { Routing.Uniform, Routing.Zipf })
            {
                foreach (bool gated in new[] { false, true })
                {
                    Dictionary<string, object> row = Measure(context, o, name, routing, gated, card);
                    rows.Add(row);
                    table.AddRow(name, (string)row["routing"], (string)row["form"], F(row["fwd_ms"]), F(row["fwd_bwd_ms"]),
                        F(row["peak_activation_mib"], "F1"), F(row["mem_get_info_delta_mib"], "F1"));
                    AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-6} {row["routing"],-8} {row["form"],-6} fwd {F(row["fwd_ms"])} ms (host {F(row["fwd_host_ms"])})  fwd+bwd {F(row["fwd_bwd_ms"])} ms (host {F(row["fwd_bwd_host_ms"])}, graph {F(row["fwd_bwd_graph_ms"])})  peak {F(row["peak_activation_mib"], "F1")} MiB"));
                }
            }
        }

        AnsiConsole.Write(table);
        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(rows, Indented));
            AnsiConsole.WriteLine($"wrote {jsonPath}");
        }

        return 0;
    }

    private static Dictionary<string, object> Measure(GroupedGemmContext context, MoeOptions o, string name, Routing routing, bool gated,
        string card)
    {
        (int d, int h) = Sizes[name];
        int t = o.Tokens, e = o.NumExperts;
        var config = new ReferenceMoeConfig(d, h, e, o.TopK, o.NumShared, gated, gated ? Activation.Silu : Activation.Gelu, o.Renormalize);
        using var layer = new GpuMoeLayer(context, config, o.DType);
        layer.FillUniform(o.Seed);
        using DeviceTensor? bias = routing == Routing.Zipf
            ? HostValues.Upload(Router.ZipfBias(t, e, o.DType, new Random(o.Seed + 3)), o.DType, t, e)
            : null;
        layer.LogitBias = bias;
        var random = new Random(o.Seed + 1);
        using DeviceTensor x = HostValues.Upload(Normal(random, (long)t * d), o.DType, t, d);
        using DeviceTensor dy = HostValues.Upload(Normal(random, (long)t * d), o.DType, t, d);
        CudaDevice.Synchronize();
        long freeBefore = CudaDevice.GetMemoryInfo(0).Free;

        // No load-balancing loss, in the forward or the backward: the PyTorch layer has none.
        using GpuMoeStep step = layer.NewStep(t, poison: false);
        step.ComputesAuxLoss = false;
        (double fwd, double fwdHost) = MedianMs(() => step.Forward(x), o.Warmup, o.Iterations);
        (double fwdBwd, double fwdBwdHost) = MedianMs(() =>
        {
            step.Forward(x);
            step.Backward(dy, auxCoefficient: 0);
        }, o.Warmup, o.Iterations);
        double? graphMs = layer.DeviceCounts ? GraphMs(step, x, dy, o) : null;
        CudaDevice.Synchronize();
        long freeAfter = CudaDevice.GetMemoryInfo(0).Free;
        const double MiB = 1 << 20;
        return new Dictionary<string, object>
        {
            ["config"] = name,
            ["routing"] = routing == Routing.Zipf ? "zipf" : "uniform",
            ["form"] = gated ? "gated" : "plain",
            ["path"] = "groupedgemm-net",
            ["dtype"] = o.DType switch { DType.BFloat16 => "bfloat16", DType.Float16 => "float16", _ => "float32" },
            ["fwd_ms"] = fwd,
            ["fwd_bwd_ms"] = fwdBwd,
            ["fwd_bwd_graph_ms"] = graphMs ?? double.NaN,
            ["fwd_host_ms"] = fwdHost,
            ["fwd_bwd_host_ms"] = fwdBwdHost,
            ["peak_activation_mib"] = step.Scratch.Bytes / MiB,
            ["mem_get_info_delta_mib"] = (freeBefore - freeAfter) / MiB,
            ["step_allocations"] = step.Scratch.Allocations,
            ["card"] = card,
            ["tokens"] = t,
            ["embed_dim"] = d,
            ["hidden_dim"] = h,
            ["experts"] = e,
            ["top_k"] = o.TopK,
            ["shared"] = o.NumShared,
        };
    }

    // CUDA events around every call on the legacy default stream (where every call of the step runs).
    /// <summary>
    /// The median time of the same forward + backward captured once as a CUDA graph and launched (on a stream of its
    /// own, which the capture needs): the step without the host's launches and the gaps between its short kernels.
    /// </summary>
    private static double GraphMs(GpuMoeStep step, DeviceTensor x, DeviceTensor dy, MoeOptions o)
    {
        CudaDevice.Synchronize(); // x and dy were written on the legacy stream
        using CudaStream stream = CudaStream.Create();
        (CudaGraph graph, _) = step.Capture(x, dy, auxCoefficient: 0, stream);
        using (graph)
        using (stream.AsCurrent())
            return MedianMs(() => graph.Launch(stream), o.Warmup, o.Iterations).DeviceMs;
    }

    /// <summary>
    /// Medians of the device time (CUDA events around the call, waited for each time) and of the host time the call
    /// takes to return (its launches); when the two are close, the step is bound by the host's launches, not the GPU.
    /// </summary>
    private static (double DeviceMs, double HostMs) MedianMs(Action call, int warmup, int iterations)
    {
        for (int i = 0; i < warmup; i++) call();
        using CudaEvent start = CudaEvent.Create(), end = CudaEvent.Create();
        var times = new double[iterations];
        var host = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            start.Record();
            long began = Stopwatch.GetTimestamp();
            call();
            host[i] = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
            end.Record();
            end.Synchronize();
            times[i] = CudaEvent.ElapsedMilliseconds(start, end);
        }

        return (Median(times), Median(host));
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static float[] Normal(Random random, long count)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return values;
    }

    private static string F(object value, string format = "F3") => ((IFormattable)value).ToString(format, CultureInfo.InvariantCulture);
}
