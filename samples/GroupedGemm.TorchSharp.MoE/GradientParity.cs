using System.Globalization;
using GroupedGemm.TorchSharp.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>
/// --parity: gradient parity of grouped GEMM against torch's own per-expert matmuls, in float32 and bfloat16.
/// (1) gmm in its three forms (forward, transB, transA) with an empty expert: output, dA and dB against per-expert
/// torch.matmul with autograd in float32 on the same (upcast) inputs. (2) the plain and gated layers: output, the
/// input's gradient and every parameter's gradient with the grouped GEMM path (and the padded bmm fallback) against
/// the same layer with the per-expert loop path (same parameters, same dtype, so the same routing), and the loop path
/// against itself: what differs there is run-to-run noise (e.g. index_add's atomics on CUDA), the floor for the other
/// rows. Prints one line per check with the
/// relative error and its bound, PASS or FAIL; exit 1 on any FAIL. A reference that is all zero is a FAIL ("reference
/// is all zero"): none of these checks expects one (random inputs and random dy), and an all-zero gradient on both
/// sides would otherwise match with a difference of 0. --norms adds each reference's norm to its line.
/// </summary>
internal static class GradientParity
{
    // Bounds on ‖Δ‖/‖ref‖. float32: torch's reference may differ by summation order (and TF32 on CUDA if the native
    // fp32 path uses it); bfloat16: the output's rounding (2^-8 relative) plus accumulation order.
    private static double Bound(ScalarType dtype, bool layer) => dtype switch
    {
        ScalarType.Float32 => 2e-3,
        _ => layer ? 3e-2 : 1.5e-2,
    };

    /// <summary>Runs every check.</summary>
    /// <param name="options">The command line.</param>
    /// <returns>0 when all pass, 1 otherwise.</returns>
    public static int Run(SampleOptions options)
    {
        Device device = options.Device();
        LayerShape shape = options.Shape(LayerShape.Small);
        torch.manual_seed(options.Int("--seed", 1234));
        string[] dtypes = options.Text("--dtypes", "float32,bfloat16").Split(',');
        Console.WriteLine($"parity on {device}: gmm forms, and the layers ({shape}) against torch's per-expert matmuls");
        bool norms = options.Has("--norms");
        int failures = 0;
        foreach (string name in dtypes)
        {
            ScalarType dtype = SampleOptions.ParseDType(name);
            foreach ((bool transA, bool transB) in new[] { (false, false), (false, true), (true, false) })
                failures += CheckGmm(dtype, device, transA, transB, norms);
            foreach (bool gated in new[] { false, true })
            {
                foreach (MoeExpertPath path in new[] { MoeExpertPath.GroupedGemm, MoeExpertPath.PaddedBmm, MoeExpertPath.PerExpertLoop })
                    failures += CheckLayer(shape, gated, path, dtype, device, options.Has("--renormalize"), norms);
            }
        }

        Console.WriteLine(failures == 0 ? "parity: PASS" : $"parity: FAIL ({failures} checks)");
        return failures == 0 ? 0 : 1;
    }

    private static int CheckGmm(ScalarType dtype, Device device, bool transA, bool transB, bool norms)
    {
        using DisposeScope scope = NewDisposeScope();
        long[] counts = [5, 0, 17, 8, 34];
        long m = counts.Sum(), k = 48, n = 40, e = counts.Length;
        Tensor batchSizes = tensor(counts);
        Tensor a = randn([m, k], dtype, device).requires_grad_();
        Tensor b = (transA ? randn([m, n], dtype, device) : transB ? randn([e, n, k], dtype, device) : randn([e, k, n], dtype, device))
            .requires_grad_();
        Tensor y = GroupedGemmTorch.gmm(a, b, batchSizes, transA, transB);
        Tensor dy = randn(y.shape, dtype, device);
        y.backward([dy]);

        Tensor ra = a.detach().to_type(ScalarType.Float32).requires_grad_();
        Tensor rb = b.detach().to_type(ScalarType.Float32).requires_grad_();
        Tensor ry = PerExpert(ra, rb, counts, transA, transB);
        ry.backward([dy.to_type(ScalarType.Float32)]);

        string form = transA ? "gmm transA" : transB ? "gmm transB" : "gmm";
        return Report($"{form,-11} {dtype,-8}", Bound(dtype, layer: false), norms,
            ("y", y, ry), ("dA", a.grad!, ra.grad!), ("dB", b.grad!, rb.grad!));
    }

    private static Tensor PerExpert(Tensor a, Tensor b, long[] counts, bool transA, bool transB)
    {
        var parts = new List<Tensor>();
        long row = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            Tensor rows = a.narrow(0, row, counts[e]);
            parts.Add(transA ? rows.t().matmul(b.narrow(0, row, counts[e])) : rows.matmul(transB ? b[e].t() : b[e]));
            row += counts[e];
        }

        return transA ? stack(parts) : cat(parts, 0);
    }

    private static int CheckLayer(LayerShape shape, bool gated, MoeExpertPath path, ScalarType dtype, Device device, bool renormalize,
        bool norms)
    {
        using DisposeScope scope = NewDisposeScope();
        using MoeFeedForwardBase layer = shape.Create(gated, useGroupedGemm: true, dtype, device, renormalize);
        if (layer.Path != MoeExpertPath.GroupedGemm)
        {
            Console.WriteLine($"layer {(gated ? "gated" : "plain")} {dtype}: FAIL, grouped GEMM is not available on {device}");
            return 1;
        }

        layer.Path = path;
        Tensor x = randn([shape.Tokens, shape.EmbedDim], dtype, device);
        Tensor dy = randn([shape.Tokens, shape.EmbedDim], dtype, device);
        (Tensor y, Tensor dx, Dictionary<string, Tensor> grads) = ForwardBackward(layer, x, dy);
        layer.Path = MoeExpertPath.PerExpertLoop;
        (Tensor ry, Tensor rdx, Dictionary<string, Tensor> rgrads) = ForwardBackward(layer, x, dy);

        var pairs = new List<(string, Tensor, Tensor)> { ("y", y, ry), ("dx", dx, rdx) };
        pairs.AddRange(grads.Select(g => ("d" + g.Key, g.Value, rgrads[g.Key])));
        return Report($"layer {(gated ? "gated" : "plain"),-5} {dtype,-8} {path,-13}", Bound(dtype, layer: true), norms, pairs.ToArray());
    }

    private static (Tensor Y, Tensor Dx, Dictionary<string, Tensor> Grads) ForwardBackward(MoeFeedForwardBase layer, Tensor x, Tensor dy)
    {
        layer.zero_grad();
        Tensor input = x.detach().requires_grad_();
        Tensor y = layer.forward(input);
        y.backward([dy]);
        var grads = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        return (y.detach(), input.grad!.clone(), grads);
    }

    private static int Report(string what, double bound, bool norms, params (string Name, Tensor Actual, Tensor Expected)[] pairs)
    {
        int failures = 0;
        var parts = new List<string>();
        foreach ((string name, Tensor actual, Tensor expected) in pairs)
        {
            RelativeError error = RelativeError.Of(actual, expected);
            bool ok = !error.ReferenceIsZero && error.Relative <= bound; // NaN (a NaN anywhere) fails too
            if (!ok) failures++;
            string value = error.ReferenceIsZero
                ? $"reference is all zero (|diff| {Format(error.Difference)})"
                : Format(error.Relative);
            string norm = norms && !error.ReferenceIsZero ? $" |ref| {Format(error.Reference)}" : "";
            parts.Add($"{name} {value}{norm}{(ok ? "" : "!")}");
        }

        Console.WriteLine($"{what} {(failures == 0 ? "PASS" : "FAIL")} (bound {Format(bound)}): {string.Join(", ", parts)}");
        return failures == 0 ? 0 : 1;
    }

    private static string Format(double value) => value.ToString("0.0e+0", CultureInfo.InvariantCulture);
}
