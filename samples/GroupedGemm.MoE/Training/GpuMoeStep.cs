namespace GroupedGemm.MoE.Training;

/// <summary>
/// The forward of <see cref="GpuMoeLayer"/> over batches of <see cref="Tokens"/> tokens and its backward, reusable:
/// <see cref="Forward(DeviceTensor)"/> rewinds the step's <see cref="DeviceScratch"/>, so from the second step on
/// nothing is allocated, and with a bf16 or fp16 layer nothing is read back to the host (see
/// <see cref="GpuMoeLayer.DeviceCounts"/>). The router and the shared experts, which see every token, run as dense GEMMs
/// (<see cref="GpuExperts.ForwardShared"/>): their outputs and x's gradient are accumulated by the GEMMs themselves,
/// with no gathered copies of the tokens and no separate additions.
/// </summary>
internal sealed class GpuMoeStep : IDisposable
{
    private readonly GpuMoeLayer _layer;
    private readonly DeviceScratch _scratch;
    private readonly long[] _counts;
    private readonly DeviceTensor _tokenCount, _sortWorkspace;
    private readonly DeviceTensor? _sharedCounts;
    private DeviceTensor _x = null!, _logits = null!, _weights = null!, _experts = null!, _countsDevice = null!, _slotRows = null!;
    private DeviceTensor? _auxLoss;
    private GpuExperts.Activations _routed = null!;
    private GpuExperts.Activations? _shared;

    /// <summary>A step of <paramref name="layer"/> over <paramref name="tokens"/> tokens; <paramref name="poison"/>: see <see cref="DeviceScratch.Poison"/>.</summary>
    internal GpuMoeStep(GpuMoeLayer layer, int tokens, bool poison = true)
    {
        ReferenceMoeConfig c = layer.Config;
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "A step needs at least one token.");
        _layer = layer;
        Tokens = tokens;
        _scratch = new DeviceScratch(poison);
        int t = tokens, s = c.NumShared;
        try
        {
            _tokenCount = _scratch.Upload(new long[] { t }); // the epilogues' counts for one matrix of T rows
            _counts = new long[c.NumExperts];
            _sortWorkspace = _scratch.Own(MoeKernels.AllocateSortWorkspace((long)t * c.TopK, c.NumExperts));
            if (s > 0) _sharedCounts = _scratch.Upload(Enumerable.Repeat((long)t, s).ToArray()); // T rows for each shared expert
        }
        catch
        {
            _scratch.Dispose();
            throw;
        }
    }

    /// <summary>Tokens of the batch.</summary>
    public int Tokens { get; }

    /// <summary>The layer's output [T, D] on the device (of the layer's type), valid until the next forward.</summary>
    public DeviceTensor Output { get; private set; } = null!;

    /// <summary>
    /// Whether the forward computes the load-balancing loss's value (<see cref="AuxLossTensor"/>); true by default. Its
    /// gradient does not need it (<see cref="Backward(DeviceTensor, double)"/> with a coefficient computes the gradient
    /// alone), so a step that only trains, or the benchmark's step (PyTorch's layer has no such loss), can leave it out:
    /// the value's kernel is one block over every token (deterministic, no atomics) and measured 0.10 ms of the seed
    /// configuration's 1.48 ms step on an H100.
    /// </summary>
    public bool ComputesAuxLoss { get; set; } = true;

    /// <summary>The unweighted load-balancing loss E · Σ_e f_e · P_e (one float32 element on the device).</summary>
    /// <exception cref="InvalidOperationException">The last forward did not compute it (<see cref="ComputesAuxLoss"/>).</exception>
    public DeviceTensor AuxLossTensor =>
        _auxLoss ?? throw new InvalidOperationException($"The last forward did not compute the load-balancing loss ({nameof(ComputesAuxLoss)} was false).");

    /// <summary>The load-balancing loss (as <see cref="MoeForwardState.AuxLoss"/>), read back from the device.</summary>
    /// <exception cref="InvalidOperationException">The last forward did not compute it (<see cref="ComputesAuxLoss"/>).</exception>
    public double AuxLoss => AuxLossTensor.ToArray<float>()[0];

    /// <summary>The step's scratch (its allocation count, for the tests and the benchmark).</summary>
    public DeviceScratch Scratch => _scratch;

    /// <summary>
    /// Runs a new step's forward of <paramref name="layer"/> over x [tokens, D] given on the host (uploaded as the
    /// layer's type); dispose the step after its backward.
    /// </summary>
    public static GpuMoeStep Run(GpuMoeLayer layer, double[] x, int tokens)
    {
        ReferenceMoeConfig c = layer.Config;
        if (tokens < 1 || x.LongLength != (long)tokens * c.EmbedDim)
            throw new ArgumentException($"x has {x.LongLength} values; {tokens} tokens × D {c.EmbedDim} expected.", nameof(x));
        var step = new GpuMoeStep(layer, tokens);
        try
        {
            step.Forward(step._scratch.Upload(x, layer.DType, tokens, c.EmbedDim));
            return step;
        }
        catch
        {
            step.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The forward over <paramref name="x"/> [T, D] (the layer's type; kept by reference until the backward, so do not
    /// change it in between). Starts a new step: the previous step's tensors are reused.
    /// </summary>
    public void Forward(DeviceTensor x)
    {
        ReferenceMoeConfig c = _layer.Config;
        GroupedGemmContext context = _layer.Context;
        DType dt = _layer.DType;
        int t = Tokens, d = c.EmbedDim, e = c.NumExperts, k = c.TopK, s = c.NumShared, slots = t * k;
        if (x.DType != dt || x.Rank != 2 || x.Shape[0] != t || x.Shape[1] != d)
            throw new ArgumentException($"x is {x}; {dt} [{t}, {d}] expected.", nameof(x));
        DeviceScratch g = _scratch;
        g.Rewind();

        _x = x;
        _logits = g.New(dt, t, e);
        context.GemmInto(_x, RouterMatrix, _logits);
        // The Zipf bias has one row per token: a padded bias-add in which every token is an "expert" of one row (as Router).
        if (_layer.LogitBias is { } bias) MoeKernels.BiasActivationPadded(_logits.Reshape(t, 1, e), bias, Activation.None);

        _weights = g.New(DType.Float32, t, k);
        _experts = g.New(DType.Int32, t, k);
        MoeKernels.TopKSoftmax(_logits, _weights, _experts, c.Renormalize);
        _countsDevice = g.New(DType.Int64, e);
        DeviceTensor sortedSlots = g.New(DType.Int32, slots);
        _slotRows = g.New(DType.Int32, slots);
        MoeKernels.SortByExpert(_experts, _countsDevice, sortedSlots, _slotRows, _sortWorkspace);
        if (!_layer.DeviceCounts) _countsDevice.CopyTo<long>(_counts); // float32 only: host counts for the GEMMs
        DeviceTensor xs = g.New(dt, slots, d);
        MoeKernels.GatherRows(_x, sortedSlots, k, xs);
        g.Release(sortedSlots);
        _routed = _layer.Routed.Forward(context, g, xs, Counts, _countsDevice);
        Output = g.New(dt, t, d);
        MoeKernels.Combine(_routed.Output, _slotRows, _weights, null, Output);

        if (s > 0) _shared = _layer.Shared!.ForwardShared(context, g, _x, _sharedCounts!, _tokenCount, Output); // Output += Σ_j yS_j

        _auxLoss = null;
        if (ComputesAuxLoss)
        {
            _auxLoss = g.New(DType.Float32, 1);
            MoeKernels.LoadBalancingLoss(_logits, _countsDevice, k, 1f, _auxLoss, null);
        }
    }

    /// <summary>
    /// Backward of the loss Σ dOutput ⊙ output + <paramref name="auxCoefficient"/> · AuxLoss on the device, given
    /// <paramref name="dOutput"/> [T, D] of the layer's type: every parameter's gradient and x's gradient, in this
    /// step's buffers (valid until the next forward).
    /// </summary>
    public GpuMoeGradients Backward(DeviceTensor dOutput, double auxCoefficient)
    {
        ReferenceMoeConfig c = _layer.Config;
        GroupedGemmContext context = _layer.Context;
        DType dt = _layer.DType;
        int t = Tokens, d = c.EmbedDim, e = c.NumExperts, k = c.TopK, s = c.NumShared;
        if (dOutput.DType != dt || dOutput.Rank != 2 || dOutput.Shape[0] != t || dOutput.Shape[1] != d)
            throw new ArgumentException($"dOutput is {dOutput}; {dt} [{t}, {d}] expected.", nameof(dOutput));
        DeviceScratch g = _scratch;

        // The shared experts first: their activations are released before the routed experts' backward, whose weight
        // gradients are the step's largest buffers (the peak is then lower by the shared experts' activations).
        DeviceTensor dx = g.New(dt, t, d);
        GpuExperts.Gradients? shared = null;
        if (s > 0) shared = _layer.Shared!.BackwardShared(context, g, _shared!, dOutput, _sharedCounts!, _tokenCount, dx, accumulate: false);

        DeviceTensor dY = g.New(dt, (long)t * k, d), dWeights = g.New(DType.Float32, t, k);
        MoeKernels.CombineBackward(dOutput, _routed.Output, _slotRows, _weights, dY, dWeights);
        g.Release(_routed.Output);
        GpuExperts.Gradients routed = _layer.Routed.Backward(context, g, _routed, dY, Counts, _countsDevice);
        MoeKernels.GatherRowsBackward(routed.Rows, _slotRows, k, dx, accumulate: s > 0);
        g.Release(routed.Rows);

        // Router: the weights' gradient through the top-k softmax, plus the load-balancing loss, to the logits; then
        // the router GEMM's backward to Wr and x.
        DeviceTensor dLogits = g.New(dt, t, e);
        MoeKernels.TopKSoftmaxBackward(_logits, _weights, _experts, dWeights, c.Renormalize, dLogits);
        g.Release(dWeights);
        if (auxCoefficient != 0)
            MoeKernels.LoadBalancingLoss(_logits, _countsDevice, k, (float)auxCoefficient, null, dLogits, accumulate: true);
        context.GemmInto(dLogits, RouterMatrix, dx, transB: true, accumulate: true); // dx += dLogits · Wrᵀ
        DeviceTensor dRouter = g.New(dt, 1, d, e);
        context.GemmInto(_x, dLogits, dRouter.Reshape(d, e), transA: true); // xᵀ · dLogits
        g.Release(dLogits);
        g.Plan(); // the first step lays out the arena now, so that the second allocates nothing
        return new GpuMoeGradients(dRouter, routed, shared, dx);
    }

    /// <summary>
    /// Backward given dOutput on the host (uploaded as the layer's type): every parameter's gradient (downloaded, in
    /// <see cref="MoeParameters"/>' layout) and x's gradient, as float64.
    /// </summary>
    public (MoeParameters Gradients, double[] Dx) Backward(double[] dOutput, double auxCoefficient)
    {
        ReferenceMoeConfig c = _layer.Config;
        if (dOutput.LongLength != (long)Tokens * c.EmbedDim)
            throw new ArgumentException($"dOutput has {dOutput.LongLength} values; {(long)Tokens * c.EmbedDim} expected.", nameof(dOutput));
        DeviceTensor dOut = _scratch.Upload(dOutput, _layer.DType, Tokens, c.EmbedDim);
        GpuMoeGradients device = Backward(dOut, auxCoefficient);
        var grads = new MoeParameters(c);
        DeviceScratch.Download(device.Router, grads.Router);
        device.Routed.Download(grads.Routed);
        device.Shared?.Download(grads.Shared!);
        return (grads, DeviceScratch.Download(device.Dx));
    }

    /// <summary>
    /// Captures one forward over <paramref name="x"/> and backward of <paramref name="dOutput"/> (the layer's type,
    /// kept by reference) on <paramref name="stream"/> into a CUDA graph: each launch of the graph is a whole step,
    /// with the forward's <see cref="Output"/> and the returned gradients rewritten in place. Two eager steps run on the
    /// stream first, so that the arena is laid out and nothing is allocated during the capture. Only layers with device
    /// counts (bf16, fp16) can be captured: a float32 layer reads the counts on the host every step.
    /// </summary>
    public (CudaGraph Graph, GpuMoeGradients Gradients) Capture(DeviceTensor x, DeviceTensor dOutput, double auxCoefficient,
        CudaStream stream)
    {
        if (!_layer.DeviceCounts)
            throw new InvalidOperationException($"A {_layer.DType} layer reads the expert counts on the host every step, which a graph cannot capture; use bf16 or fp16.");
        using (stream.AsCurrent())
        {
            for (int i = 0; i < 2; i++)
            {
                Forward(x);
                Backward(dOutput, auxCoefficient);
            }

            GpuMoeGradients? gradients = null;
            CudaGraph graph = CudaGraph.Capture(stream, () =>
            {
                Forward(x);
                gradients = Backward(dOutput, auxCoefficient);
            });
            return (graph, gradients!);
        }
    }

    /// <summary>Frees the step's device tensors.</summary>
    public void Dispose() => _scratch.Dispose();

    // Wr [D, E], the router's [1, D, E] parameter as the dense GEMMs take it.
    private DeviceTensor RouterMatrix => _layer.Router.Reshape(_layer.Config.EmbedDim, _layer.Config.NumExperts);

    private BatchSizes Counts => _layer.DeviceCounts ? _countsDevice : _counts;
}

/// <summary>
/// The gradients of one <see cref="GpuMoeStep"/> on the device: the router's [1, D, E] and the experts' weights in the
/// layer's type, the biases' in float32, x's [T, D] in the layer's type.
/// </summary>
internal sealed record GpuMoeGradients(DeviceTensor Router, GpuExperts.Gradients Routed, GpuExperts.Gradients? Shared, DeviceTensor Dx)
{
    /// <summary>The parameter gradients in <see cref="MoeParameters.Tensors"/>' order (that of <see cref="GpuMoeLayer.Tensors"/>).</summary>
    public IReadOnlyList<DeviceTensor> Tensors()
    {
        var list = new List<DeviceTensor> { Router };
        list.AddRange(Routed.Tensors());
        if (Shared is not null) list.AddRange(Shared.Tensors());
        return list;
    }
}
