using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Moe;

/// <summary>The seed's VectorizedGatedMoeFeedForward: W1 [E, D, 2H], hidden = act(gate)·up, SiLU by default, no biases.</summary>
public sealed class VectorizedGatedMoeFeedForward : MoeFeedForwardBase
{
    /// <summary>Creates the layer (the seed's constructor, <c>use_grouped_gemm</c> included).</summary>
    /// <param name="embedDim">D.</param>
    /// <param name="hiddenDim">H.</param>
    /// <param name="numExperts">E.</param>
    /// <param name="topK">Experts per token.</param>
    /// <param name="numSharedExperts">Dense shared experts.</param>
    /// <param name="useGroupedGemm">Grouped GEMM for the experts (padded bmm, with the seed's warning, where unavailable).</param>
    /// <param name="activation">Activation (default SiLU).</param>
    /// <param name="renormalize">Renormalise the top-k probabilities.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    public VectorizedGatedMoeFeedForward(long embedDim, long hiddenDim, long numExperts, int topK, long numSharedExperts = 0,
        bool useGroupedGemm = false, Func<Tensor, Tensor>? activation = null, bool renormalize = false,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(nameof(VectorizedGatedMoeFeedForward), gated: true, embedDim, hiddenDim, numExperts, topK, numSharedExperts,
            useGroupedGemm, activation, renormalize, dtype, device)
    {
    }
}
