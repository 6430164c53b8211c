namespace GroupedGemm.MoE.Training;

/// <summary>
/// The shape and form of the float64 trainable MoE layer: the sample's layer without its device type and batch size
/// (tokens come with each input), and without Zipf routing (a fixed per-position logit offset, meaningless for the
/// fresh batches of training).
/// </summary>
/// <param name="EmbedDim">Model width D.</param>
/// <param name="HiddenDim">Expert hidden width H.</param>
/// <param name="NumExperts">Routed experts E.</param>
/// <param name="TopK">Experts per token k.</param>
/// <param name="NumShared">Dense shared experts S applied to every token with weight 1.</param>
/// <param name="Gated">Gated experts (act(gate)·up, W1 [E, D, 2H], no biases) instead of plain ones (with biases).</param>
/// <param name="Activation">The expert activation.</param>
/// <param name="Renormalize">Whether the top-k softmax weights are renormalised to sum to 1.</param>
internal sealed record ReferenceMoeConfig(
    int EmbedDim, int HiddenDim, int NumExperts, int TopK, int NumShared, bool Gated, Activation Activation, bool Renormalize)
{
    /// <summary>Columns of the first expert GEMM: H, or 2H (gate | up) for the gated form.</summary>
    public int FirstWidth => Gated ? 2 * HiddenDim : HiddenDim;

    /// <summary>The sample's layer options as a reference configuration.</summary>
    public static ReferenceMoeConfig From(MoeOptions options) => new(
        options.EmbedDim, options.HiddenDim, options.NumExperts, options.TopK, options.NumShared, options.Gated,
        options.Activation, options.Renormalize);

    /// <summary>Throws when the configuration cannot describe a layer.</summary>
    public void Validate()
    {
        if (EmbedDim < 1 || HiddenDim < 1 || NumExperts < 1 || NumShared < 0)
            throw new ArgumentException($"Dimensions must be positive (D {EmbedDim}, H {HiddenDim}, E {NumExperts}, S {NumShared}).");
        if (TopK < 1 || TopK > NumExperts)
            throw new ArgumentException($"Top-k {TopK} must be between 1 and the number of experts ({NumExperts}).");
    }
}
