namespace GroupedGemm.MoE;

/// <summary>How tokens are routed.</summary>
internal enum Routing
{
    /// <summary>The learned (randomly initialised) router alone: roughly uniform expert load.</summary>
    Uniform,

    /// <summary>
    /// The router's logits plus a fixed per-token bias log(1/(e+1)) + Gumbel noise: the top-k then picks expert e with
    /// probability ∝ 1/(e+1) (Zipf, sampled without replacement), giving the skewed load of the seed's example.
    /// </summary>
    Zipf,
}

/// <summary>One layer configuration and run settings, as given on the command line.</summary>
internal sealed record MoeOptions(
    int BatchSize,
    int SeqLen,
    int EmbedDim,
    int HiddenDim,
    int NumExperts,
    int TopK,
    int NumShared,
    DType DType,
    bool Gated,
    Activation Activation,
    Routing Routing,
    bool Renormalize,
    int Iterations,
    int Warmup,
    int Seed,
    int ReferenceTokens)
{
    /// <summary>
    /// <c>--dtype float8</c>: the layer is bf16 (<see cref="DType"/>), and its routed experts also run in FP8 (E4M3 with
    /// <see cref="Fp8Scales"/>' scales, the scaled grouped GEMM) as a third path compared with the bf16 ones.
    /// </summary>
    public bool Fp8Experts { get; init; }

    /// <summary>
    /// <c>--fp8-scales</c>: the FP8 experts' scaling (<see cref="Fp8Scaling"/>), row-wise (the default) or DeepGEMM's
    /// blocks; only with <see cref="Fp8Experts"/>.
    /// </summary>
    public ScaleMode Fp8Scales { get; init; } = ScaleMode.Rowwise;

    /// <summary>Tokens per forward: batch size × sequence length.</summary>
    public int Tokens => BatchSize * SeqLen;

    /// <summary>The small configuration the CPU-only fallback runs (tokens 64, D 64, H 128, E 8, k 2).</summary>
    public MoeOptions SmallCpuConfiguration() =>
        this with { BatchSize = 1, SeqLen = 64, EmbedDim = 64, HiddenDim = 128, NumExperts = 8, TopK = 2, NumShared = Math.Min(NumShared, 1) };

    /// <summary>Why these options cannot run, or null when they can.</summary>
    public string? Validate()
    {
        if (BatchSize < 1 || SeqLen < 1 || EmbedDim < 1 || HiddenDim < 1 || NumExperts < 1)
            return "--batch-size, --seq-len, --embed-dim, --hidden-dim and --num-experts must be at least 1.";
        if (TopK < 1 || TopK > NumExperts) return $"--top-k {TopK} must be between 1 and --num-experts ({NumExperts}).";
        if (NumShared < 0 || Iterations < 1 || Warmup < 0) return "--num-shared and --warmup must be >= 0 and --iters >= 1.";
        if ((long)Tokens * TopK > int.MaxValue) return $"{Tokens} tokens × top-k {TopK} exceeds the int32 slot ids.";
        if (!Fp8Experts && Fp8Scales != ScaleMode.Rowwise) return "--fp8-scales block needs --dtype float8.";
        return null;
    }

    /// <summary>One line describing the layer.</summary>
    public string Describe() =>
        $"{(Gated ? "gated " : "")}MoE: tokens {Tokens} ({BatchSize}×{SeqLen}), D {EmbedDim}, H {HiddenDim}, E {NumExperts}, " +
        $"top-k {TopK}, shared {NumShared}, {DType}{(Fp8Experts ? $" (routed experts also in FP8: E4M3, {Fp8Scaling.Describe(Fp8Scales)})" : "")}, " +
        $"{Activation}, routing {Routing.ToString().ToLowerInvariant()}" +
        $"{(Renormalize ? ", renormalised" : "")}, seed {Seed}";
}
