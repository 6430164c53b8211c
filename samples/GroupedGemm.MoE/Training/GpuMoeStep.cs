namespace GroupedGemm.MoE.Training;

/// <summary>
/// One forward of <see cref="GpuMoeLayer"/> and its backward. The shared experts run as one grouped GEMM over S
/// copies of the tokens (row j·T + t is token t, counts T each), and their outputs are added to the combine's output by
/// the gather's backward over the slot map slot t·S + j → row j·T + t, which is exactly Σ_j yS[j·T + t].
/// </summary>
internal sealed class GpuMoeStep : IDisposable
{
    private const DType F32 = DType.Float32;

    private readonly GpuMoeLayer _layer;
    private readonly DeviceScratch _scratch = new();
    private long[] _routerCounts = [];
    private long[] _counts = [];
    private long[] _sharedCounts = [];
    private DeviceTensor _x = null!, _logits = null!, _weights = null!, _experts = null!, _countsDevice = null!, _slotRows = null!;
    private DeviceTensor? _sharedIndex, _sharedSlotRows, _sharedCountsDevice;
    private DeviceTensor _auxLoss = null!;
    private GpuExperts.Activations _routed = null!;
    private GpuExperts.Activations? _shared;

    private GpuMoeStep(GpuMoeLayer layer, int tokens)
    {
        _layer = layer;
        Tokens = tokens;
    }

    /// <summary>Tokens of the batch.</summary>
    public int Tokens { get; }

    /// <summary>The layer's output [T, D] on the device.</summary>
    public DeviceTensor Output { get; private set; } = null!;

    /// <summary>The load-balancing loss E · Σ_e f_e · P_e (unweighted, as <see cref="MoeForwardState.AuxLoss"/>), computed on the device.</summary>
    public double AuxLoss => DeviceScratch.Download(_auxLoss)[0];

    /// <summary>Runs the forward of <paramref name="layer"/> over x [tokens, D].</summary>
    public static GpuMoeStep Run(GpuMoeLayer layer, double[] x, int tokens)
    {
        ReferenceMoeConfig c = layer.Config;
        if (tokens < 1 || x.LongLength != (long)tokens * c.EmbedDim)
            throw new ArgumentException($"x has {x.LongLength} values; {tokens} tokens × D {c.EmbedDim} expected.", nameof(x));
        var step = new GpuMoeStep(layer, tokens);
        try
        {
            step.Forward(x);
            return step;
        }
        catch
        {
            step.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Backward of the loss Σ dOutput ⊙ output + <paramref name="auxCoefficient"/> · AuxLoss: every parameter's gradient
    /// (downloaded, in <see cref="MoeParameters"/>' layout) and x's gradient.
    /// </summary>
    public (MoeParameters Gradients, double[] Dx) Backward(double[] dOutput, double auxCoefficient)
    {
        ReferenceMoeConfig c = _layer.Config;
        GroupedGemmContext context = _layer.Context;
        int t = Tokens, d = c.EmbedDim, e = c.NumExperts, k = c.TopK, s = c.NumShared;
        if (dOutput.LongLength != (long)t * d)
            throw new ArgumentException($"dOutput has {dOutput.LongLength} values; {(long)t * d} expected.", nameof(dOutput));
        DeviceScratch g = _scratch;
        var grads = new MoeParameters(c);

        DeviceTensor dOut = g.Upload(dOutput, t, d);
        DeviceTensor dY = g.New(F32, (long)t * k, d), dWeights = g.New(F32, t, k);
        MoeKernels.CombineBackward(dOut, _routed.Output, _slotRows, _weights, dY, dWeights);
        GpuExperts.Gradients routed = _layer.Routed.Backward(context, g, _routed, dY, _counts, _countsDevice);
        routed.Download(grads.Routed);
        DeviceTensor dx = g.New(F32, t, d);
        MoeKernels.GatherRowsBackward(routed.Rows, _slotRows, k, dx);

        if (s > 0)
        {
            DeviceTensor dYShared = g.New(F32, (long)s * t, d);
            MoeKernels.GatherRows(dOut, _sharedIndex!, 1, dYShared);
            GpuExperts.Gradients shared = _layer.Shared!.Backward(context, g, _shared!, dYShared, _sharedCounts, _sharedCountsDevice!);
            shared.Download(grads.Shared!);
            MoeKernels.GatherRowsBackward(shared.Rows, _sharedSlotRows!, s, dx, accumulate: true);
        }

        // Router: the weights' gradient through the top-k softmax, plus the load-balancing loss, to the logits; then
        // the router GEMM's backward to Wr and x.
        DeviceTensor dLogits = g.New(F32, t, e);
        MoeKernels.TopKSoftmaxBackward(_logits, _weights, _experts, dWeights, c.Renormalize, dLogits);
        if (auxCoefficient != 0)
            MoeKernels.LoadBalancingLoss(_logits, _countsDevice, k, (float)auxCoefficient, null, dLogits, accumulate: true);
        (DeviceTensor dxRouter, DeviceTensor dRouter) = context.GmmBackward(_x, _layer.Router, dLogits, _routerCounts);
        g.Own(dxRouter);
        g.Own(dRouter);
        DeviceScratch.Download(dRouter, grads.Router);
        DeviceTensor identity = g.Upload(Enumerable.Range(0, t).ToArray());
        MoeKernels.GatherRowsBackward(dxRouter, identity, 1, dx, accumulate: true); // dx += the router's part
        return (grads, DeviceScratch.Download(dx));
    }

    /// <summary>Frees the step's device tensors.</summary>
    public void Dispose() => _scratch.Dispose();

    private void Forward(double[] xValues)
    {
        ReferenceMoeConfig c = _layer.Config;
        GroupedGemmContext context = _layer.Context;
        int t = Tokens, d = c.EmbedDim, e = c.NumExperts, k = c.TopK, s = c.NumShared, slots = t * k;
        DeviceScratch g = _scratch;

        _x = g.Upload(xValues, t, d);
        _routerCounts = [t];
        _logits = g.New(F32, t, e);
        context.GmmInto(_x, _layer.Router, _routerCounts, _logits);
        _weights = g.New(F32, t, k);
        _experts = g.New(DType.Int32, t, k);
        MoeKernels.TopKSoftmax(_logits, _weights, _experts, c.Renormalize);
        _countsDevice = g.New(DType.Int64, e);
        DeviceTensor sortedSlots = g.New(DType.Int32, slots);
        _slotRows = g.New(DType.Int32, slots);
        DeviceTensor workspace = g.Own(MoeKernels.AllocateSortWorkspace(slots, e));
        MoeKernels.SortByExpert(_experts, _countsDevice, sortedSlots, _slotRows, workspace);
        _counts = _countsDevice.ToArray<long>(); // the one host synchronisation: host counts for the GEMMs
        DeviceTensor xs = g.New(F32, slots, d);
        MoeKernels.GatherRows(_x, sortedSlots, k, xs);
        _routed = _layer.Routed.Forward(context, g, xs, _counts, _countsDevice);
        Output = g.New(F32, t, d);
        MoeKernels.Combine(_routed.Output, _slotRows, _weights, null, Output);

        if (s > 0)
        {
            _sharedIndex = g.Upload(Enumerable.Range(0, s * t).Select(r => r % t).ToArray());
            _sharedSlotRows = g.Upload(Enumerable.Range(0, t * s).Select(slot => slot % s * t + slot / s).ToArray());
            _sharedCounts = Enumerable.Repeat((long)t, s).ToArray();
            _sharedCountsDevice = g.Upload(_sharedCounts);
            DeviceTensor xShared = g.New(F32, (long)s * t, d);
            MoeKernels.GatherRows(_x, _sharedIndex, 1, xShared);
            _shared = _layer.Shared!.Forward(context, g, xShared, _sharedCounts, _sharedCountsDevice);
            MoeKernels.GatherRowsBackward(_shared.Output, _sharedSlotRows, s, Output, accumulate: true); // Output[t] += Σ_j yS[j·T + t]
        }

        _auxLoss = g.New(F32, 1);
        MoeKernels.LoadBalancingLoss(_logits, _countsDevice, k, 1f, _auxLoss, null);
    }
}
