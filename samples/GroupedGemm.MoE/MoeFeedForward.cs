namespace GroupedGemm.MoE;

/// <summary>Experts of the seed's VectorizedMoeFeedForward: act(x·W1[e] + b1[e])·W2[e] + b2[e]; W1 [E, D, H], W2 [E, H, D].</summary>
internal sealed class MoeFeedForward(int experts, int embedDim, int hiddenDim, DType dtype, Activation activation, Random random, bool onDevice)
    : ExpertFeedForward(experts, embedDim, hiddenDim, hiddenDim, withBias: true, dtype, activation, random, onDevice)
{
    /// <inheritdoc/>
    protected override DeviceTensor HiddenGrouped(DeviceTensor first, DeviceTensor counts, DevicePool pool, CudaStream stream)
    {
        MoeKernels.BiasActivation(first, B1, counts, Activation, stream);
        return first;
    }

    /// <inheritdoc/>
    protected override DeviceTensor HiddenPadded(DeviceTensor first, DevicePool pool, CudaStream stream)
    {
        MoeKernels.BiasActivationPadded(first, B1, Activation, stream);
        return first;
    }

    /// <inheritdoc/>
    protected override void HiddenReference(ReadOnlySpan<double> first, Span<double> hidden)
    {
        for (int i = 0; i < HiddenDim; i++) hidden[i] = ReferenceMath.Activate(Activation, first[i]);
    }
}
