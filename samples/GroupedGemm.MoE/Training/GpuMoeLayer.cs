namespace GroupedGemm.MoE.Training;

/// <summary>
/// The trainable MoE layer of <see cref="ReferenceMoe"/> on the GPU, in float32: router GEMM, top-k softmax, sort by
/// expert, gather, the routed experts' grouped GEMMs and epilogues, combine, the shared experts; and its backward
/// through the MoE backward kernels and <c>GmmBackward</c>, with the optional load-balancing loss.
/// </summary>
/// <remarks>
/// A first step towards a device-only training step: the grouped GEMMs take the expert counts on the host (downloaded
/// once per step after the sort, so that any backend that takes float32 runs them), and the optimiser runs on the host
/// over downloaded gradients (<see cref="GpuMoeStep.Backward"/>). Every MoE kernel reads the counts on the device.
/// </remarks>
internal sealed class GpuMoeLayer : IDisposable
{
    private readonly GroupedGemmContext _context;
    private readonly DeviceTensor _router;

    /// <summary>Uploads <paramref name="parameters"/>; runs on <paramref name="context"/>'s device.</summary>
    public GpuMoeLayer(GroupedGemmContext context, MoeParameters parameters)
    {
        _context = context;
        Config = parameters.Config;
        _router = DeviceTensor.Allocate(DType.Float32, 1, Config.EmbedDim, Config.NumExperts);
        Routed = new GpuExperts(parameters.Routed, Config.Activation);
        Shared = parameters.Shared is null ? null : new GpuExperts(parameters.Shared, Config.Activation);
        Load(parameters);
    }

    /// <summary>The layer's configuration.</summary>
    public ReferenceMoeConfig Config { get; }

    /// <summary>The routed experts.</summary>
    public GpuExperts Routed { get; }

    /// <summary>The shared experts, null when there are none.</summary>
    public GpuExperts? Shared { get; }

    /// <summary>The router Wr [D, E] as the weight of a grouped GEMM of one group: [1, D, E].</summary>
    public DeviceTensor Router => _router;

    /// <summary>The context the GEMMs run on.</summary>
    public GroupedGemmContext Context => _context;

    /// <summary>Copies <paramref name="parameters"/> (same configuration) to the device, e.g. after an optimiser step.</summary>
    public void Load(MoeParameters parameters)
    {
        _router.CopyFrom<float>(DeviceScratch.ToFloat(parameters.Router));
        Routed.Load(parameters.Routed);
        if (Shared is not null) Shared.Load(parameters.Shared!);
    }

    /// <summary>Forward over x [tokens, D]; the returned step holds what backward needs (dispose it after backward).</summary>
    public GpuMoeStep Forward(double[] x, int tokens) => GpuMoeStep.Run(this, x, tokens);

    /// <summary>Frees the device parameters.</summary>
    public void Dispose()
    {
        _router.Dispose();
        Routed.Dispose();
        Shared?.Dispose();
    }
}
