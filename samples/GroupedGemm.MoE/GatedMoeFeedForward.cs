namespace GroupedGemm.MoE;

/// <summary>
/// Experts of the seed's VectorizedGatedMoeFeedForward (SwiGLU style, no biases): W1 [E, D, 2H] holds gate | up,
/// hidden = act(x·W1_gate) · (x·W1_up), output = hidden·W2[e], W2 [E, H, D].
/// </summary>
internal sealed class GatedMoeFeedForward(int experts, int embedDim, int hiddenDim, DType dtype, Activation activation, Random random, bool onDevice)
    : ExpertFeedForward(experts, embedDim, hiddenDim, 2 * hiddenDim, withBias: false, dtype, activation, random, onDevice)
{
    /// <inheritdoc/>
    protected override DeviceTensor HiddenGrouped(DeviceTensor first, DeviceTensor counts, DevicePool pool, CudaStream stream)
    {
        DeviceTensor hidden = pool.Rent(DType, first.Shape[0], HiddenDim);
        MoeKernels.GatedActivation(first, B1, counts, Activation, hidden, stream);
        pool.Return(first);
        return hidden;
    }

    /// <inheritdoc/>
    protected override DeviceTensor HiddenPadded(DeviceTensor first, DevicePool pool, CudaStream stream)
    {
        DeviceTensor hidden = pool.Rent(DType, first.Shape[0], first.Shape[1], HiddenDim);
        MoeKernels.GatedActivationPadded(first, B1, Activation, hidden, stream);
        pool.Return(first);
        return hidden;
    }

    /// <inheritdoc/>
    protected override void HiddenReference(ReadOnlySpan<double> first, Span<double> hidden)
    {
        for (int i = 0; i < HiddenDim; i++) hidden[i] = ReferenceMath.Activate(Activation, first[i]) * first[HiddenDim + i];
    }
}
