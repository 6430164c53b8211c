using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GroupedGemm.TorchSharp.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>
/// --bench: forward and forward+backward time of the layer with grouped GEMM experts, the per-expert loop and the
/// padded bmm, on the seed's shape in bf16 by default, for uniform and Zipf routing, plain and gated. Timing: torch's
/// synchronize around each call and a Stopwatch, --warmup untimed calls, the median of --iters. Forward runs under
/// no_grad; forward+backward runs out.backward(dy) with a fixed random dy (gradients of x, every parameter and the
/// router). Prints a table and, with --json FILE, writes the rows.
/// </summary>
internal static class LayerBenchmark
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    private static readonly Dictionary<string, MoeExpertPath> s_paths = new(StringComparer.Ordinal)
    {
        ["grouped"] = MoeExpertPath.GroupedGemm,
        ["loop"] = MoeExpertPath.PerExpertLoop,
        ["bmm"] = MoeExpertPath.PaddedBmm,
    };

    /// <summary>Runs the benchmark.</summary>
    /// <param name="options">The command line.</param>
    /// <returns>0, or 1 when grouped GEMM was asked for and is not available.</returns>
    public static int Run(SampleOptions options)
    {
        Device device = options.Device();
        ScalarType dtype = options.DType("--dtype", "bfloat16");
        LayerShape shape = options.Shape(LayerShape.Seed);
        int iters = options.Int("--iters", 50);
        int warmup = options.Int("--warmup", 10);
        string json = options.Text("--json", "");
        string[] routings = options.Text("--routings", "uniform,zipf").Split(',');
        string[] forms = options.Text("--forms", "plain,gated").Split(',');
        string[] paths = options.Text("--paths", "grouped,loop,bmm").Split(',');
        torch.manual_seed(options.Int("--seed", 1234));
        Console.WriteLine($"bench: {shape}, {dtype}, {device}, median of {iters} after {warmup}");
        Console.WriteLine($"{"routing",-8} {"form",-6} {"path",-8} {"fwd ms",9} {"fwd+bwd ms",11}");

        var rows = new List<Dictionary<string, object>>();
        int rc = 0;
        foreach (string form in forms)
        {
            using MoeFeedForwardBase layer = shape.Create(form == "gated", useGroupedGemm: true, dtype, device, options.Has("--renormalize"));
            bool groupedAvailable = layer.Path == MoeExpertPath.GroupedGemm;
            foreach (string routing in routings)
            {
                using DisposeScope scope = NewDisposeScope();
                layer.RoutingBias = routing switch
                {
                    "uniform" => null,
                    "zipf" => ZipfBias(shape, dtype, device),
                    _ => throw new ArgumentException($"--routings takes uniform and zipf, not '{routing}'."),
                };
                Tensor x = randn([shape.Tokens, shape.EmbedDim], dtype, device);
                Tensor dy = randn([shape.Tokens, shape.EmbedDim], dtype, device);
                foreach (string pathName in paths)
                {
                    if (!s_paths.TryGetValue(pathName, out MoeExpertPath path))
                        throw new ArgumentException($"--paths takes grouped, loop and bmm, not '{pathName}'.");
                    if (path == MoeExpertPath.GroupedGemm && !groupedAvailable)
                    {
                        Console.WriteLine($"{routing,-8} {form,-6} {pathName,-8} grouped GEMM not available on {device}");
                        rc = 1;
                        continue;
                    }

                    layer.Path = path;
                    double fwd = MedianMs(device, iters, warmup, () =>
                    {
                        using var noGrad = no_grad();
                        layer.forward(x);
                    });
                    double fwdBwd = MedianMs(device, iters, warmup, () =>
                    {
                        layer.zero_grad();
                        Tensor input = x.detach().requires_grad_();
                        layer.forward(input).backward([dy]);
                    });
                    Console.WriteLine($"{routing,-8} {form,-6} {pathName,-8} {fwd,9:F3} {fwdBwd,11:F3}");
                    rows.Add(new Dictionary<string, object>
                    {
                        ["routing"] = routing, ["form"] = form, ["path"] = pathName,
                        ["fwd_ms"] = fwd, ["fwd_bwd_ms"] = fwdBwd,
                    });
                }
            }
        }

        if (json.Length > 0)
        {
            var document = new Dictionary<string, object>
            {
                ["layer"] = "GroupedGemm.TorchSharp.Moe", ["device"] = device.ToString(), ["dtype"] = dtype.ToString(),
                ["tokens"] = shape.Tokens, ["embed_dim"] = shape.EmbedDim, ["hidden_dim"] = shape.HiddenDim,
                ["experts"] = shape.Experts, ["top_k"] = shape.TopK, ["shared"] = shape.Shared,
                ["iters"] = iters, ["warmup"] = warmup, ["timing"] = "synchronize + Stopwatch, median",
                ["rows"] = rows,
            };
            File.WriteAllText(json, JsonSerializer.Serialize(document, s_indented));
            Console.WriteLine($"bench: wrote {json}");
        }

        return rc;
    }

    /// <summary>log(1/(e+1)) plus Gumbel noise per token: top-k then picks expert e with probability ~ 1/(e+1).</summary>
    private static Tensor ZipfBias(LayerShape shape, ScalarType dtype, Device device)
    {
        Tensor gumbel = -(-rand([shape.Tokens, shape.Experts]).clamp_min(1e-20).log()).log();
        Tensor zipf = -arange(1, shape.Experts + 1, dtype: ScalarType.Float32).log();
        return (zipf + gumbel).to(dtype, device);
    }

    private static double MedianMs(Device device, int iters, int warmup, Action step)
    {
        var times = new double[iters];
        for (int i = -warmup; i < iters; i++)
        {
            using DisposeScope scope = NewDisposeScope();
            Synchronize(device);
            long start = Stopwatch.GetTimestamp();
            step();
            Synchronize(device);
            if (i >= 0) times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return iters % 2 == 1 ? times[iters / 2] : (times[iters / 2 - 1] + times[iters / 2]) / 2;
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }
}
