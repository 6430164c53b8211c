namespace GroupedGemm.MoE.Training;

/// <summary>
/// The trainable MoE layer of <see cref="ReferenceMoe"/> on the GPU: router GEMM, top-k softmax, sort by expert,
/// gather, the routed experts' grouped GEMMs and epilogues, combine, the shared experts; and its backward through the
/// MoE backward kernels and the grouped GEMMs' backward forms, with the optional load-balancing loss. Parameters and
/// activations are stored in <see cref="DType"/> (float32, bf16 or fp16; fp32 math inside every kernel).
/// </summary>
/// <remarks>
/// <para>
/// Expert counts: with bf16 or fp16 every grouped GEMM reads the counts on the device (CUTLASS sm90 or sm80 under
/// <see cref="GemmBackend.Auto"/>), so a step has no host synchronisation (<see cref="DeviceCounts"/>). No backend
/// takes float32 with device counts (the cuBLAS backends read host counts), so a float32 layer reads the counts back
/// once per step after the sort and runs its GEMMs with host counts; every MoE kernel reads them on the device.
/// </para>
/// <para>
/// Reuse one <see cref="GpuMoeStep"/> per batch size (<see cref="NewStep"/>): its buffers are allocated by the first
/// step and reused by every later one.
/// </para>
/// </remarks>
internal sealed class GpuMoeLayer : IDisposable
{
    private readonly GroupedGemmContext _context;
    private readonly DeviceTensor _router;

    /// <summary>Uploads <paramref name="parameters"/> as <paramref name="dtype"/>; runs on <paramref name="context"/>'s device.</summary>
    public GpuMoeLayer(GroupedGemmContext context, MoeParameters parameters, DType dtype = DType.Float32)
        : this(context, parameters.Config, dtype) => Load(parameters);

    /// <summary>An uninitialised layer of configuration <paramref name="config"/> (fill it with <see cref="Load"/> or <see cref="FillUniform"/>).</summary>
    public GpuMoeLayer(GroupedGemmContext context, ReferenceMoeConfig config, DType dtype)
    {
        if (dtype is not (DType.Float32 or DType.BFloat16 or DType.Float16))
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "The layer stores float32, bf16 or fp16.");
        config.Validate();
        _context = context;
        Config = config;
        DType = dtype;
        _router = DeviceTensor.Allocate(dtype, 1, Config.EmbedDim, Config.NumExperts);
        bool biases = !config.Gated;
        Routed = new GpuExperts(config.NumExperts, config.EmbedDim, config.HiddenDim, config.Gated, biases, config.Activation, dtype);
        Shared = config.NumShared == 0 ? null
            : new GpuExperts(config.NumShared, config.EmbedDim, config.HiddenDim, config.Gated, biases, config.Activation, dtype);
    }

    /// <summary>The layer's configuration.</summary>
    public ReferenceMoeConfig Config { get; }

    /// <summary>The storage type of parameters and activations.</summary>
    public DType DType { get; }

    /// <summary>Whether the grouped GEMMs read the expert counts on the device (bf16 and fp16; see the remarks).</summary>
    public bool DeviceCounts => DType != DType.Float32;

    /// <summary>The routed experts.</summary>
    public GpuExperts Routed { get; }

    /// <summary>The shared experts, null when there are none.</summary>
    public GpuExperts? Shared { get; }

    /// <summary>The router Wr, stored [1, D, E] as <see cref="MoeParameters"/> holds it (the step's dense GEMMs view it as [D, E]).</summary>
    public DeviceTensor Router => _router;

    /// <summary>
    /// An optional bias [tokens, E] of the layer's type added to the router logits before the softmax (the benchmark's
    /// Zipf routing, as bench/moe_training/moe_layer_torch.py); null for none. Not a parameter: it gets no gradient.
    /// </summary>
    public DeviceTensor? LogitBias { get; set; }

    /// <summary>The context the GEMMs run on.</summary>
    public GroupedGemmContext Context => _context;

    /// <summary>The parameter tensors in <see cref="MoeParameters.Tensors"/>' order.</summary>
    public IReadOnlyList<DeviceTensor> Tensors()
    {
        var list = new List<DeviceTensor> { _router };
        list.AddRange(Routed.Tensors());
        if (Shared is not null) list.AddRange(Shared.Tensors());
        return list;
    }

    /// <summary>Copies <paramref name="parameters"/> (same configuration) to the device, rounded to the storage type.</summary>
    public void Load(MoeParameters parameters)
    {
        DeviceScratch.Load(_router, parameters.Router);
        Routed.Load(parameters.Routed);
        if (Shared is not null) Shared.Load(parameters.Shared!);
    }

    /// <summary>Fills every parameter uniform in ±1/sqrt(fan-in) from <paramref name="seed"/> (the benchmark's layer).</summary>
    public void FillUniform(int seed)
    {
        var random = new Random(seed);
        DeviceFill.Uniform(_router, random, 1 / Math.Sqrt(Config.EmbedDim));
        Routed.FillUniform(random);
        Shared?.FillUniform(random);
    }

    /// <summary>A reusable step over batches of <paramref name="tokens"/> tokens (dispose it before the layer).</summary>
    public GpuMoeStep NewStep(int tokens, bool poison = true) => new(this, tokens, poison);

    /// <summary>Forward over x [tokens, D] in a new step that holds what backward needs (dispose it after backward).</summary>
    public GpuMoeStep Forward(double[] x, int tokens) => GpuMoeStep.Run(this, x, tokens);

    /// <summary>Frees the device parameters.</summary>
    public void Dispose()
    {
        _router.Dispose();
        Routed.Dispose();
        Shared?.Dispose();
    }
}
