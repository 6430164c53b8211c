using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Moe;

/// <summary>
/// The seed's VectorizedMoeFeedForward (its constructor, <c>use_grouped_gemm</c> included): plain experts
/// act(x·W1 + b1)·W2 + b2, GELU by default.
/// </summary>
/// <inheritdoc cref="MoeFeedForwardBase" path="/remarks"/>
public sealed class VectorizedMoeFeedForward(long embedDim, long hiddenDim, long numExperts, int topK,
    long numSharedExperts = 0, bool useGroupedGemm = false, Func<Tensor, Tensor>? activation = null,
    bool renormalize = false, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : MoeFeedForwardBase(nameof(VectorizedMoeFeedForward), gated: false, embedDim, hiddenDim, numExperts, topK,
        numSharedExperts, useGroupedGemm, activation, renormalize, dtype, device);
