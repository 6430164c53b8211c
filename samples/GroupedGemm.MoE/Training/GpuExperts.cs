namespace GroupedGemm.MoE.Training;

/// <summary>
/// A group of experts (the routed ones, or the shared ones) on the GPU in float32, laid out as
/// <see cref="ExpertParameters"/>: W1 [E, D, F], B1 [E, F], W2 [E, H, D], B2 [E, D]. Forward over rows grouped by expert
/// keeps what backward reads; backward returns the parameter gradients and the rows' gradient. The grouped GEMMs go
/// through <see cref="GroupedGemmContext.GmmInto(DeviceTensor, DeviceTensor, ReadOnlySpan{long}, DeviceTensor, bool, bool, bool, GmmOptions?)"/>
/// and <see cref="GroupedGemmContext.GmmBackward(DeviceTensor, DeviceTensor, DeviceTensor, ReadOnlySpan{long}, bool, GmmOptions?)"/>,
/// the epilogues and their gradients through <see cref="MoeKernels"/>.
/// </summary>
internal sealed class GpuExperts : IDisposable
{
    private const DType F32 = DType.Float32;

    /// <summary>Uploads <paramref name="p"/>.</summary>
    public GpuExperts(ExpertParameters p, Activation activation)
    {
        Shape = new ExpertParameters(p.Experts, p.EmbedDim, p.HiddenDim, p.Gated);
        Activation = activation;
        W1 = DeviceTensor.Allocate(F32, p.Experts, p.EmbedDim, p.FirstWidth);
        B1 = p.B1 is null ? null : DeviceTensor.Allocate(F32, p.Experts, p.FirstWidth);
        W2 = DeviceTensor.Allocate(F32, p.Experts, p.HiddenDim, p.EmbedDim);
        B2 = p.B2 is null ? null : DeviceTensor.Allocate(F32, p.Experts, p.EmbedDim);
        Load(p);
    }

    /// <summary>Zero parameters of the same sizes (only the sizes are read).</summary>
    public ExpertParameters Shape { get; }

    /// <summary>The expert activation.</summary>
    public Activation Activation { get; }

    /// <summary>W1 [E, D, F].</summary>
    public DeviceTensor W1 { get; }

    /// <summary>B1 [E, F], null for gated experts.</summary>
    public DeviceTensor? B1 { get; }

    /// <summary>W2 [E, H, D].</summary>
    public DeviceTensor W2 { get; }

    /// <summary>B2 [E, D], null for gated experts.</summary>
    public DeviceTensor? B2 { get; }

    /// <summary>Copies <paramref name="p"/> (same sizes) to the device, rounded to float32.</summary>
    public void Load(ExpertParameters p)
    {
        W1.CopyFrom<float>(DeviceScratch.ToFloat(p.W1));
        B1?.CopyFrom<float>(DeviceScratch.ToFloat(p.B1!));
        W2.CopyFrom<float>(DeviceScratch.ToFloat(p.W2));
        B2?.CopyFrom<float>(DeviceScratch.ToFloat(p.B2!));
    }

    /// <summary>
    /// Forward over <paramref name="rows"/> [M, D] grouped by expert (<paramref name="counts"/> on the host for the
    /// GEMMs, <paramref name="deviceCounts"/> for the epilogues, the same values); tensors go to <paramref name="scratch"/>.
    /// </summary>
    public Activations Forward(GroupedGemmContext context, DeviceScratch scratch, DeviceTensor rows, long[] counts,
        DeviceTensor deviceCounts)
    {
        ExpertParameters p = Shape;
        long m = rows.Shape[0];
        DeviceTensor first = scratch.New(F32, m, p.FirstWidth);
        context.GmmInto(rows, W1, counts, first);
        DeviceTensor pre = scratch.New(F32, m, p.FirstWidth);
        pre.CopyFrom(first); // the plain epilogue works in place: backward needs the pre-activation
        DeviceTensor hidden;
        if (p.Gated)
        {
            hidden = scratch.New(F32, m, p.HiddenDim);
            MoeKernels.GatedActivation(first, null, deviceCounts, Activation, hidden);
        }
        else
        {
            MoeKernels.BiasActivation(first, B1, deviceCounts, Activation);
            hidden = first;
        }

        DeviceTensor y = scratch.New(F32, m, p.EmbedDim);
        context.GmmInto(hidden, W2, counts, y);
        if (B2 is not null) MoeKernels.BiasActivation(y, B2, deviceCounts, Activation.None);
        return new Activations(rows, pre, hidden, y);
    }

    /// <summary>Backward of <see cref="Forward"/> given the outputs' gradient <paramref name="dY"/> [M, D].</summary>
    public Gradients Backward(GroupedGemmContext context, DeviceScratch scratch, Activations a, DeviceTensor dY, long[] counts,
        DeviceTensor deviceCounts)
    {
        ExpertParameters p = Shape;
        long m = dY.Shape[0];
        DeviceTensor? dB1 = null, dB2 = null;
        if (B2 is not null)
        {
            dB2 = scratch.New(F32, p.Experts, p.EmbedDim);
            MoeKernels.BiasGradient(dY, deviceCounts, dB2);
        }

        (DeviceTensor dHidden, DeviceTensor dW2) = context.GmmBackward(a.Hidden, W2, dY, counts);
        scratch.Own(dHidden);
        scratch.Own(dW2);
        DeviceTensor dFirst = scratch.New(F32, m, p.FirstWidth);
        if (p.Gated)
        {
            MoeKernels.GatedActivationBackward(a.Pre, null, deviceCounts, Activation, dHidden, dFirst);
        }
        else
        {
            MoeKernels.BiasActivationBackward(a.Pre, B1, deviceCounts, Activation, dHidden, dFirst);
            dB1 = scratch.New(F32, p.Experts, p.FirstWidth);
            MoeKernels.BiasGradient(dFirst, deviceCounts, dB1);
        }

        (DeviceTensor dRows, DeviceTensor dW1) = context.GmmBackward(a.Input, W1, dFirst, counts);
        scratch.Own(dRows);
        scratch.Own(dW1);
        return new Gradients(dW1, dB1, dW2, dB2, dRows);
    }

    /// <summary>Frees the device parameters.</summary>
    public void Dispose()
    {
        W1.Dispose();
        B1?.Dispose();
        W2.Dispose();
        B2?.Dispose();
    }

    /// <summary>What backward reads from one forward: the rows, the first GEMM's output before its epilogue, the hidden rows and the output.</summary>
    internal sealed record Activations(DeviceTensor Input, DeviceTensor Pre, DeviceTensor Hidden, DeviceTensor Output);

    /// <summary>The parameter gradients (B1, B2 null for gated experts) and the input rows' gradient.</summary>
    internal sealed record Gradients(DeviceTensor W1, DeviceTensor? B1, DeviceTensor W2, DeviceTensor? B2, DeviceTensor Rows)
    {
        /// <summary>Downloads the parameter gradients into <paramref name="into"/> (same sizes).</summary>
        public void Download(ExpertParameters into)
        {
            DeviceScratch.Download(W1, into.W1);
            if (B1 is not null) DeviceScratch.Download(B1, into.B1!);
            DeviceScratch.Download(W2, into.W2);
            if (B2 is not null) DeviceScratch.Download(B2, into.B2!);
        }
    }
}
