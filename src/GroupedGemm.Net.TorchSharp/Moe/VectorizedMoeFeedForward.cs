using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Moe;

/// <summary>The seed's VectorizedMoeFeedForward: plain experts act(x·W1 + b1)·W2 + b2, GELU by default.</summary>
public sealed class VectorizedMoeFeedForward : MoeFeedForwardBase
{
    /// <summary>Creates the layer (the seed's constructor, <c>use_grouped_gemm</c> included).</summary>
    /// <param name="embedDim">D.</param>
    /// <param name="hiddenDim">H.</param>
    /// <param name="numExperts">E.</param>
    /// <param name="topK">Experts per token.</param>
    /// <param name="numSharedExperts">Dense shared experts.</param>
    /// <param name="useGroupedGemm">Grouped GEMM for the experts (padded bmm, with the seed's warning, where unavailable).</param>
    /// <param name="activation">Activation (default GELU).</param>
    /// <param name="renormalize">Renormalise the top-k probabilities.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    public VectorizedMoeFeedForward(long embedDim, long hiddenDim, long numExperts, int topK, long numSharedExperts = 0,
        bool useGroupedGemm = false, Func<Tensor, Tensor>? activation = null, bool renormalize = false,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(nameof(VectorizedMoeFeedForward), gated: false, embedDim, hiddenDim, numExperts, topK, numSharedExperts,
            useGroupedGemm, activation, renormalize, dtype, device)
    {
    }
}
