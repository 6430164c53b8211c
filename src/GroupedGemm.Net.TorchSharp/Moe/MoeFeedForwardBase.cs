using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Moe;

/// <summary>
/// The seed's vectorized MoE feed-forward layer (rxlm's VectorizedMoeFeedForward / VectorizedGatedMoeFeedForward) as a
/// TorchSharp module, on tokens x [T, D]: router x·Wr (+ an optional fixed routing bias), softmax in float32, top-k
/// (optionally renormalised), the routed rows sorted by expert, the experts on those rows (<see cref="Path"/>), the
/// top-k weights, an index_add combine, plus dense shared experts. Plain experts: act(x·W1 + b1)·W2 + b2 (GELU);
/// gated experts: W1 is [E, D, 2H] and hidden = act(gate)·up (SiLU), no biases. The same layer as the sample's and as
/// bench/moe_training/moe_layer_torch.py.
/// </summary>
/// <remarks>
/// Constructor parameters: embedDim D, hiddenDim H, numExperts E, topK experts per token, numSharedExperts dense
/// experts; useGroupedGemm computes the experts with grouped GEMM (where it is not available on the device, the
/// seed's warning is printed once and the padded bmm path is used); activation (default GELU plain, SiLU gated);
/// renormalize the top-k probabilities; the parameters' dtype and device (default CPU). Parameters are drawn from
/// ±1/√fan_in with torch's global generator.
/// </remarks>
public abstract class MoeFeedForwardBase : nn.Module<Tensor, Tensor>
{
    private static readonly object s_warnLock = new();
    private static bool s_warned;

#pragma warning disable IDE1006, CA1051 // TorchSharp names parameters after their fields
    private readonly Parameter router;
    private readonly Parameter w1;
    private readonly Parameter w2;
    private readonly Parameter? b1;
    private readonly Parameter? b2;
    private readonly Parameter? shared_w1;
    private readonly Parameter? shared_w2;
    private readonly Parameter? shared_b1;
    private readonly Parameter? shared_b2;
#pragma warning restore IDE1006, CA1051

    private readonly bool _gated;
    private readonly long _hidden;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates the layer with parameters drawn uniformly from ±1/√fan_in (torch's global generator).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="gated">Gated experts (W1 [E, D, 2H], act(gate)·up, no biases).</param>
    /// <param name="embedDim">D.</param>
    /// <param name="hiddenDim">H.</param>
    /// <param name="numExperts">E, routed experts.</param>
    /// <param name="topK">Experts per token.</param>
    /// <param name="numSharedExperts">Dense experts every token goes through.</param>
    /// <param name="useGroupedGemm">
    /// Compute the experts with grouped GEMM; where it is not available on <paramref name="device"/>, the seed's
    /// warning is printed once and the layer falls back to the padded bmm path.
    /// </param>
    /// <param name="activation">The activation (default: GELU for plain experts, SiLU for gated ones).</param>
    /// <param name="renormalize">Renormalise the top-k probabilities to sum to one.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device (default CPU).</param>
    protected MoeFeedForwardBase(string name, bool gated, long embedDim, long hiddenDim, long numExperts, int topK,
        long numSharedExperts, bool useGroupedGemm, Func<Tensor, Tensor>? activation, bool renormalize,
        ScalarType dtype, Device? device)
        : base(name)
    {
        CheckPositive(embedDim, nameof(embedDim));
        CheckPositive(hiddenDim, nameof(hiddenDim));
        CheckPositive(numExperts, nameof(numExperts));
        if (topK < 1 || topK > numExperts)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be in [1, numExperts = {numExperts}].");
        ArgumentOutOfRangeException.ThrowIfNegative(numSharedExperts);
        device ??= CPU;
        _gated = gated;
        _hidden = hiddenDim;
        _activation = activation ?? (gated ? x => nn.functional.silu(x) : x => nn.functional.gelu(x));
        TopK = topK;
        Renormalize = renormalize;
        long first = gated ? 2 * hiddenDim : hiddenDim;
        router = Uniform([embedDim, numExperts], embedDim, dtype, device);
        w1 = Uniform([numExperts, embedDim, first], embedDim, dtype, device);
        w2 = Uniform([numExperts, hiddenDim, embedDim], hiddenDim, dtype, device);
        if (!gated)
        {
            b1 = Uniform([numExperts, first], embedDim, dtype, device);
            b2 = Uniform([numExperts, embedDim], hiddenDim, dtype, device);
        }

        if (numSharedExperts > 0)
        {
            shared_w1 = Uniform([numSharedExperts, embedDim, first], embedDim, dtype, device);
            shared_w2 = Uniform([numSharedExperts, hiddenDim, embedDim], hiddenDim, dtype, device);
            if (!gated)
            {
                shared_b1 = Uniform([numSharedExperts, first], embedDim, dtype, device);
                shared_b2 = Uniform([numSharedExperts, embedDim], hiddenDim, dtype, device);
            }
        }

        RegisterComponents();
        Path = ChoosePath(useGroupedGemm, device, dtype);
    }

    /// <summary>How the routed experts are computed; settable (benchmarks and parity checks switch it).</summary>
    public MoeExpertPath Path { get; set; }

    /// <summary>Experts per token.</summary>
    public int TopK { get; }

    /// <summary>Whether the top-k probabilities are renormalised.</summary>
    public bool Renormalize { get; }

    /// <summary>
    /// An optional fixed [T, E] bias added to the router logits (benchmarks use a Zipf-like one for skewed routing);
    /// not a parameter. Null for none.
    /// </summary>
    public Tensor? RoutingBias { get; set; }

    /// <summary>Applies the layer.</summary>
    /// <param name="input">Tokens [T, D] of the parameters' dtype and device.</param>
    /// <returns>[T, D].</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != router.shape[0])
            throw new ArgumentException($"input must be [T, D = {router.shape[0]}] but has shape [{string.Join(", ", input.shape)}].", nameof(input));
        using DisposeScope scope = NewDisposeScope();
        long experts = router.shape[1];
        Tensor logits = input.matmul(router);
        if (RoutingBias is not null) logits = logits + RoutingBias;
        Tensor probs = logits.to_type(ScalarType.Float32).softmax(-1);
        (Tensor topP, Tensor topI) = probs.topk(TopK, dim: -1);
        Tensor weights = Renormalize ? topP / topP.sum(-1, keepdim: true) : topP;
        Tensor flat = topI.reshape(-1);
        Tensor order = flat.argsort();
        Tensor counts = bincount(flat, minlength: experts);
        Tensor rows = order.div(TopK, RoundingMode.floor);
        Tensor expertOfRow = flat.index_select(0, order);
        Tensor y = Experts(input.index_select(0, rows), expertOfRow, counts);
        y = y * weights.reshape(-1).index_select(0, order).unsqueeze(1).to_type(y.dtype);
        Tensor output = zeros_like(input).index_add(0, rows, y, 1);
        if (shared_w1 is not null)
        {
            for (long j = 0; j < shared_w1.shape[0]; j++)
            {
                Tensor first = input.matmul(shared_w1[j]);
                if (shared_b1 is not null) first = first + shared_b1[j];
                Tensor ys = Hidden(first).matmul(shared_w2![j]);
                output = output + (shared_b2 is not null ? ys + shared_b2[j] : ys);
            }
        }

        return output.MoveToOuterDisposeScope();
    }

    private Tensor Experts(Tensor xs, Tensor expertOfRow, Tensor counts) => Path switch
    {
        MoeExpertPath.GroupedGemm => GroupedExperts(xs, expertOfRow, counts),
        MoeExpertPath.PaddedBmm => PaddedExperts(xs, expertOfRow, counts),
        MoeExpertPath.PerExpertLoop => LoopExperts(xs, counts),
        _ => throw new InvalidOperationException($"Unknown expert path {Path}."),
    };

    private Tensor GroupedExperts(Tensor xs, Tensor expertOfRow, Tensor counts)
    {
        // Batch sizes stay where the routing computed them (on the GPU: no synchronisation), except for float32 on
        // CUDA, whose backends (cuBLAS) take host counts: one copy to the host, a synchronisation.
        if (xs.device_type == DeviceType.CUDA && GroupedGemmAvailability.NeedsHostCounts(xs.dtype)) counts = counts.cpu();
        Tensor first = GroupedGemmTorch.gmm(xs, w1, counts);
        if (b1 is not null) first = first + b1.index_select(0, expertOfRow);
        Tensor y = GroupedGemmTorch.gmm(Hidden(first), w2, counts);
        return b2 is not null ? y + b2.index_select(0, expertOfRow) : y;
    }

    private Tensor PaddedExperts(Tensor xs, Tensor expertOfRow, Tensor counts)
    {
        long experts = counts.shape[0];
        long cap = counts.max().item<long>();
        Tensor starts = counts.cumsum(0) - counts;
        Tensor pos = arange(xs.shape[0], dtype: ScalarType.Int64, device: xs.device) - starts.index_select(0, expertOfRow);
        Tensor slot = expertOfRow * cap + pos;
        Tensor padded = zeros([experts * cap, xs.shape[1]], xs.dtype, xs.device).index_add(0, slot, xs, 1)
            .view(experts, cap, xs.shape[1]);
        Tensor first = bmm(padded, w1);
        if (b1 is not null) first = first + b1.unsqueeze(1);
        Tensor hidden = Hidden(first.reshape(-1, first.shape[2])).view(experts, cap, -1);
        Tensor y = bmm(hidden, w2);
        if (b2 is not null) y = y + b2.unsqueeze(1);
        return y.view(experts * cap, -1).index_select(0, slot);
    }

    private Tensor LoopExperts(Tensor xs, Tensor counts)
    {
        long[] host = counts.cpu().data<long>().ToArray();
        var parts = new List<Tensor>(host.Length);
        long row = 0;
        for (int e = 0; e < host.Length; e++)
        {
            if (host[e] == 0) continue;
            Tensor first = xs.narrow(0, row, host[e]).matmul(w1[e]);
            if (b1 is not null) first = first + b1[e];
            Tensor y = Hidden(first).matmul(w2[e]);
            parts.Add(b2 is not null ? y + b2[e] : y);
            row += host[e];
        }

        return cat(parts, 0);
    }

    private Tensor Hidden(Tensor first) =>
        _gated ? _activation(first.narrow(-1, 0, _hidden)) * first.narrow(-1, _hidden, _hidden) : _activation(first);

    private static MoeExpertPath ChoosePath(bool useGroupedGemm, Device device, ScalarType dtype)
    {
        if (!useGroupedGemm) return MoeExpertPath.PaddedBmm;
        if (GroupedGemmTorch.IsAvailable(device, dtype, out string? reason)) return MoeExpertPath.GroupedGemm;
        lock (s_warnLock)
        {
            if (!s_warned)
            {
                // The seed's warning, word for word, then the reason.
                Console.Error.WriteLine("WARNING: grouped_gemm requested but not available.");
                Console.Error.WriteLine("Falling back to standard vectorized implementation.");
                Console.Error.WriteLine($"({reason})");
                s_warned = true;
            }
        }

        return MoeExpertPath.PaddedBmm;
    }

    private static Parameter Uniform(long[] shape, long fanIn, ScalarType dtype, Device device)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        using Tensor values = (rand(shape, ScalarType.Float32) * 2 - 1) * bound;
        return new Parameter(values.to(dtype, device));
    }

    private static void CheckPositive(long value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }
}
