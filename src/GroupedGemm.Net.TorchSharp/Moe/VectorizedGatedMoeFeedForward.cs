using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Moe;

/// <summary>
/// The seed's VectorizedGatedMoeFeedForward (its constructor, <c>use_grouped_gemm</c> included): W1 [E, D, 2H],
/// hidden = act(gate)·up, SiLU by default, no biases.
/// </summary>
/// <inheritdoc cref="MoeFeedForwardBase" path="/remarks"/>
public sealed class VectorizedGatedMoeFeedForward(long embedDim, long hiddenDim, long numExperts, int topK,
    long numSharedExperts = 0, bool useGroupedGemm = false, Func<Tensor, Tensor>? activation = null,
    bool renormalize = false, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : MoeFeedForwardBase(nameof(VectorizedGatedMoeFeedForward), gated: true, embedDim, hiddenDim, numExperts, topK,
        numSharedExperts, useGroupedGemm, activation, renormalize, dtype, device);
