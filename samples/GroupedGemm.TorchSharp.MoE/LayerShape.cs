using GroupedGemm.TorchSharp.Moe;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>The sizes of one MoE layer and its token batch.</summary>
/// <param name="Tokens">T.</param>
/// <param name="EmbedDim">D.</param>
/// <param name="HiddenDim">H.</param>
/// <param name="Experts">E.</param>
/// <param name="TopK">Experts per token.</param>
/// <param name="Shared">Shared experts.</param>
internal sealed record LayerShape(long Tokens, long EmbedDim, long HiddenDim, long Experts, int TopK, long Shared)
{
    /// <summary>The seed's layer: 2048 tokens, D 512, H 2048, E 80, top-8, one shared expert.</summary>
    public static LayerShape Seed { get; } = new(2048, 512, 2048, 80, 8, 1);

    /// <summary>A small layer that trains and checks in seconds on a CPU.</summary>
    public static LayerShape Small { get; } = new(256, 32, 64, 8, 2, 1);

    /// <summary>Makes the plain or gated layer of these sizes (parameters from torch's global generator).</summary>
    /// <param name="gated">Gated experts.</param>
    /// <param name="useGroupedGemm">The seed's use_grouped_gemm flag.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="renormalize">Renormalise the top-k probabilities.</param>
    /// <returns>The layer.</returns>
    public MoeFeedForwardBase Create(bool gated, bool useGroupedGemm, ScalarType dtype, Device device, bool renormalize = false) =>
        gated
            ? new VectorizedGatedMoeFeedForward(EmbedDim, HiddenDim, Experts, TopK, Shared, useGroupedGemm, renormalize: renormalize, dtype: dtype, device: device)
            : new VectorizedMoeFeedForward(EmbedDim, HiddenDim, Experts, TopK, Shared, useGroupedGemm, renormalize: renormalize, dtype: dtype, device: device);

    /// <inheritdoc/>
    public override string ToString() =>
        $"tokens {Tokens}, D {EmbedDim}, H {HiddenDim}, E {Experts}, top-{TopK}, shared {Shared}";
}
