namespace GroupedGemm.MoE.Training;

/// <summary>
/// Float64 parameters (or gradients) of the whole layer: router Wr [D, E] (no bias), the routed experts and the
/// optional shared experts.
/// </summary>
internal sealed class MoeParameters
{
    /// <summary>Zero-filled parameters of a layer of configuration <paramref name="config"/>.</summary>
    public MoeParameters(ReferenceMoeConfig config)
        : this(config, new double[(long)config.EmbedDim * config.NumExperts],
            new ExpertParameters(config.NumExperts, config.EmbedDim, config.HiddenDim, config.Gated),
            config.NumShared > 0 ? new ExpertParameters(config.NumShared, config.EmbedDim, config.HiddenDim, config.Gated) : null)
    {
    }

    private MoeParameters(ReferenceMoeConfig config, double[] router, ExpertParameters routed, ExpertParameters? shared)
    {
        config.Validate();
        Config = config;
        Router = router;
        Routed = routed;
        Shared = shared;
    }

    /// <summary>The layer's configuration.</summary>
    public ReferenceMoeConfig Config { get; }

    /// <summary>Router weights Wr [D, E].</summary>
    public double[] Router { get; }

    /// <summary>The E routed experts.</summary>
    public ExpertParameters Routed { get; }

    /// <summary>The S shared experts, null when S = 0.</summary>
    public ExpertParameters? Shared { get; }

    /// <summary>
    /// The parameters of the sample's <see cref="MoeLayer"/> built from <paramref name="seed"/> under uniform routing:
    /// the same draws in the same order (router, routed experts, shared experts), rounded to <paramref name="dtype"/>.
    /// </summary>
    public static MoeParameters FromSeed(ReferenceMoeConfig config, int seed, DType dtype)
    {
        config.Validate();
        var random = new Random(seed);
        float[] router = HostValues.Uniform(random, (long)config.EmbedDim * config.NumExperts, 1 / Math.Sqrt(config.EmbedDim), dtype);
        ExpertParameters routed = ExpertParameters.FromRandom(config.NumExperts, config.EmbedDim, config.HiddenDim, config.Gated, random, dtype);
        ExpertParameters? shared = config.NumShared > 0
            ? ExpertParameters.FromRandom(config.NumShared, config.EmbedDim, config.HiddenDim, config.Gated, random, dtype)
            : null;
        return new MoeParameters(config, router.Select(v => (double)v).ToArray(), routed, shared);
    }

    /// <summary>Every tensor by name: "router", "routed.w1", ..., "shared.b2".</summary>
    public IReadOnlyList<(string Name, double[] Values)> Tensors() => ShapedTensors().Select(t => (t.Name, t.Values)).ToList();

    /// <summary>Every tensor by name with its extents: the router [D, E], then the experts' (<see cref="ExpertParameters.ShapedTensors"/>).</summary>
    public IReadOnlyList<(string Name, double[] Values, long[] Shape)> ShapedTensors()
    {
        var list = new List<(string, double[], long[])> { ("router", Router, [Config.EmbedDim, Config.NumExperts]) };
        list.AddRange(Routed.ShapedTensors("routed."));
        if (Shared is not null) list.AddRange(Shared.ShapedTensors("shared."));
        return list;
    }
}
