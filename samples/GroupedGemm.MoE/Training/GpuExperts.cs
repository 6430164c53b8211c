namespace GroupedGemm.MoE.Training;

/// <summary>
/// A group of experts (the routed ones, or the shared ones) on the GPU, laid out as <see cref="ExpertParameters"/>:
/// W1 [E, D, F], B1 [E, F], W2 [E, H, D], B2 [E, D], stored in the layer's element type (float32, bf16 or fp16).
/// Forward over rows grouped by expert keeps what backward reads; backward returns the parameter gradients and the
/// rows' gradient. The grouped GEMMs go through
/// <see cref="GroupedGemmContext.GmmInto(DeviceTensor, DeviceTensor, BatchSizes, DeviceTensor, bool, bool, bool, GmmOptions?)"/>
/// into the step's buffers (tgale96's backward formulas: dX = dY · Wᵀ, dW = Xᵀ · dY), the epilogues and their
/// gradients through <see cref="MoeKernels"/>; nothing is allocated once the step's buffers exist.
/// </summary>
/// <remarks>
/// Gradients: the weight gradients come out of the grouped GEMMs in the storage type (bf16 for a bf16 layer, fp32
/// accumulation inside), the bias gradients out of <see cref="MoeKernels.BiasGradient"/> in float32.
/// </remarks>
internal sealed class GpuExperts : IDisposable
{
    /// <summary>Uploads <paramref name="p"/> as <paramref name="dtype"/>.</summary>
    public GpuExperts(ExpertParameters p, Activation activation, DType dtype = DType.Float32)
        : this(p.Experts, p.EmbedDim, p.HiddenDim, p.Gated, p.B1 is not null, activation, dtype) => Load(p);

    /// <summary>Uninitialised experts of the given sizes (fill them with <see cref="Load"/> or <see cref="FillUniform"/>).</summary>
    public GpuExperts(int experts, int embedDim, int hiddenDim, bool gated, bool biases, Activation activation, DType dtype)
    {
        Shape = new ExpertShape(experts, embedDim, hiddenDim, gated);
        Activation = activation;
        DType = dtype;
        W1 = DeviceTensor.Allocate(dtype, experts, embedDim, Shape.FirstWidth);
        B1 = biases ? DeviceTensor.Allocate(dtype, experts, Shape.FirstWidth) : null;
        W2 = DeviceTensor.Allocate(dtype, experts, hiddenDim, embedDim);
        B2 = biases ? DeviceTensor.Allocate(dtype, experts, embedDim) : null;
    }

    /// <summary>The sizes (no host copy of the parameters: at the benchmark's sizes a float64 one is gigabytes).</summary>
    public ExpertShape Shape { get; }

    /// <summary>The expert activation.</summary>
    public Activation Activation { get; }

    /// <summary>The storage type of parameters and activations.</summary>
    public DType DType { get; }

    /// <summary>W1 [E, D, F].</summary>
    public DeviceTensor W1 { get; }

    /// <summary>B1 [E, F], null for gated experts.</summary>
    public DeviceTensor? B1 { get; }

    /// <summary>W2 [E, H, D].</summary>
    public DeviceTensor W2 { get; }

    /// <summary>B2 [E, D], null for gated experts.</summary>
    public DeviceTensor? B2 { get; }

    /// <summary>The parameter tensors in <see cref="ExpertParameters.Tensors"/>' order: w1, b1, w2, b2 (biases when present).</summary>
    public IEnumerable<DeviceTensor> Tensors()
    {
        yield return W1;
        if (B1 is not null) yield return B1;
        yield return W2;
        if (B2 is not null) yield return B2;
    }

    /// <summary>Copies <paramref name="p"/> (same sizes) to the device, rounded to the storage type.</summary>
    public void Load(ExpertParameters p)
    {
        DeviceScratch.Load(W1, p.W1);
        if (B1 is not null) DeviceScratch.Load(B1, p.B1!);
        DeviceScratch.Load(W2, p.W2);
        if (B2 is not null) DeviceScratch.Load(B2, p.B2!);
    }

    /// <summary>Fills every parameter uniform in ±1/sqrt(fan-in) (as <see cref="ExpertParameters.FromRandom"/>), for the benchmark.</summary>
    public void FillUniform(Random random)
    {
        DeviceFill.Uniform(W1, random, 1 / Math.Sqrt(Shape.EmbedDim));
        if (B1 is not null) DeviceFill.Uniform(B1, random, 1 / Math.Sqrt(Shape.EmbedDim));
        DeviceFill.Uniform(W2, random, 1 / Math.Sqrt(Shape.HiddenDim));
        if (B2 is not null) DeviceFill.Uniform(B2, random, 1 / Math.Sqrt(Shape.HiddenDim));
    }

    /// <summary>
    /// Forward over <paramref name="rows"/> [M, D] grouped by expert (<paramref name="counts"/> for the GEMMs, host or
    /// device; <paramref name="deviceCounts"/> for the epilogues, the same values); buffers come from <paramref name="scratch"/>.
    /// </summary>
    public Activations Forward(GroupedGemmContext context, DeviceScratch scratch, DeviceTensor rows, BatchSizes counts,
        DeviceTensor deviceCounts)
    {
        ExpertShape p = Shape;
        long m = rows.Shape[0];
        DeviceTensor first = scratch.New(DType, m, p.FirstWidth);
        context.GmmInto(rows, W1, counts, first);
        (DeviceTensor pre, DeviceTensor hidden) = Activate(scratch, first, deviceCounts);
        DeviceTensor y = scratch.New(DType, m, p.EmbedDim);
        context.GmmInto(hidden, W2, counts, y);
        if (B2 is not null) MoeKernels.BiasActivation(y, B2, deviceCounts, Activation.None);
        return new Activations(rows, pre, hidden, y);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> given the outputs' gradient <paramref name="dY"/> [M, D] (from
    /// <paramref name="scratch"/>); releases dY and the activations it reads (not their output) after their last use.
    /// </summary>
    public Gradients Backward(GroupedGemmContext context, DeviceScratch scratch, Activations a, DeviceTensor dY, BatchSizes counts,
        DeviceTensor deviceCounts)
    {
        ExpertShape p = Shape;
        long m = dY.Shape[0];
        DeviceTensor? dB2 = null;
        if (B2 is not null)
        {
            dB2 = scratch.New(DType.Float32, p.Experts, p.EmbedDim);
            MoeKernels.BiasGradient(dY, deviceCounts, dB2);
        }

        DeviceTensor dHidden = scratch.New(DType, m, p.HiddenDim);
        context.GmmInto(dY, W2, counts, dHidden, transB: true); // dHidden = dY · W2ᵀ
        DeviceTensor dW2 = scratch.New(DType, p.Experts, p.HiddenDim, p.EmbedDim);
        context.GmmInto(a.Hidden, dY, counts, dW2, transA: true); // dW2[e] = hidden_eᵀ · dY_e (zeros for empty experts)
        scratch.Release(a.Hidden);
        scratch.Release(dY);
        DeviceTensor dFirst = scratch.New(DType, m, p.FirstWidth);
        DeviceTensor? dB1 = ActivationBackward(scratch, a.Pre, dHidden, dFirst, deviceCounts);
        scratch.Release(dHidden);
        scratch.Release(a.Pre);

        // dW1 before dRows: the input rows are then released before dRows is requested, which can take their bytes.
        DeviceTensor dW1 = scratch.New(DType, p.Experts, p.EmbedDim, p.FirstWidth);
        context.GmmInto(a.Input, dFirst, counts, dW1, transA: true);
        scratch.Release(a.Input);
        DeviceTensor dRows = scratch.New(DType, m, p.EmbedDim);
        context.GmmInto(dFirst, W1, counts, dRows, transB: true); // dRows = dFirst · W1ᵀ
        scratch.Release(dFirst);
        return new Gradients(dW1, dB1, dW2, dB2, dRows);
    }

    /// <summary>
    /// Forward of the shared experts: every one of the E experts over all T <paramref name="rows"/> [T, D], their outputs
    /// (and second biases) added into <paramref name="output"/> [T, D]. Dense GEMMs (<see
    /// cref="GroupedGemmContext.GemmInto(DeviceTensor, DeviceTensor, DeviceTensor, bool, bool, bool, CudaStream?)"/>):
    /// every expert sees the same rows, so no copies of the rows are gathered and the second GEMM accumulates straight
    /// into the output. The activations are [E·T, ·], row j·T + t being token t of expert j: the layout of
    /// <see cref="Forward"/>'s rows grouped by <paramref name="copyCounts"/>, which holds T for each of the E experts;
    /// <paramref name="rowCount"/> holds T once.
    /// </summary>
    public Activations ForwardShared(GroupedGemmContext context, DeviceScratch scratch, DeviceTensor rows, DeviceTensor copyCounts,
        DeviceTensor rowCount, DeviceTensor output)
    {
        ExpertShape p = Shape;
        long t = rows.Shape[0];
        int e = p.Experts;
        DeviceTensor first = scratch.New(DType, e * t, p.FirstWidth);
        context.GemmInto(rows, W1, first.Reshape(e, t, p.FirstWidth)); // first_j = rows · W1[j]: one batched GEMM, rows shared
        (DeviceTensor pre, DeviceTensor hidden) = Activate(scratch, first, copyCounts);
        for (int j = 0; j < e; j++)
        {
            context.GemmInto(hidden.Slice(j * t, t), Expert(W2, j), output, accumulate: true); // output += hidden_j · W2[j]
            if (B2 is not null) MoeKernels.BiasActivation(output, B2.Slice(j, 1), rowCount, Activation.None);
        }

        return new Activations(rows, pre, hidden, output);
    }

    /// <summary>
    /// Backward of <see cref="ForwardShared"/> given the layer output's gradient <paramref name="dOutput"/> [T, D]: the
    /// parameter gradients, and the rows' gradient written into <paramref name="dRows"/> [T, D] (added to it with
    /// <paramref name="accumulate"/>), which the returned <see cref="Gradients.Rows"/> is. Releases the activations
    /// from <paramref name="scratch"/> after their last use (not the rows, which the caller owns).
    /// </summary>
    public Gradients BackwardShared(GroupedGemmContext context, DeviceScratch scratch, Activations a, DeviceTensor dOutput,
        DeviceTensor copyCounts, DeviceTensor rowCount, DeviceTensor dRows, bool accumulate)
    {
        ExpertShape p = Shape;
        long t = dOutput.Shape[0];
        int e = p.Experts;
        DeviceTensor? dB2 = null;
        if (B2 is not null)
        {
            dB2 = scratch.New(DType.Float32, e, p.EmbedDim);
            for (int j = 0; j < e; j++) MoeKernels.BiasGradient(dOutput, rowCount, dB2.Slice(j, 1));
        }

        DeviceTensor dHidden = scratch.New(DType, e * t, p.HiddenDim);
        context.GemmInto(dOutput, W2, dHidden.Reshape(e, t, p.HiddenDim), transB: true); // dHidden_j = dOutput · W2[j]ᵀ
        DeviceTensor dW2 = scratch.New(DType, e, p.HiddenDim, p.EmbedDim);
        context.GemmInto(a.Hidden.Reshape(e, t, p.HiddenDim), dOutput, dW2, transA: true); // dW2[j] = hidden_jᵀ · dOutput
        scratch.Release(a.Hidden);
        DeviceTensor dFirst = scratch.New(DType, e * t, p.FirstWidth);
        DeviceTensor? dB1 = ActivationBackward(scratch, a.Pre, dHidden, dFirst, copyCounts);
        scratch.Release(dHidden);
        scratch.Release(a.Pre);
        DeviceTensor dW1 = scratch.New(DType, e, p.EmbedDim, p.FirstWidth);
        context.GemmInto(a.Input, dFirst.Reshape(e, t, p.FirstWidth), dW1, transA: true); // dW1[j] = rowsᵀ · dFirst_j
        for (int j = 0; j < e; j++) // dRows (+)= Σ_j dFirst_j · W1[j]ᵀ
            context.GemmInto(dFirst.Slice(j * t, t), Expert(W1, j), dRows, transB: true, accumulate: accumulate || j > 0);
        scratch.Release(dFirst);
        return new Gradients(dW1, dB1, dW2, dB2, dRows);
    }

    // Expert j's [rows, cols] matrix of an [E, rows, cols] weight.
    private static DeviceTensor Expert(DeviceTensor weight, int j) => weight.Slice(j, 1).Reshape(weight.Shape[1], weight.Shape[2]);

    // The first GEMM's epilogue over its output rows `first` [M, F] (from the scratch), grouped by `counts`: the
    // pre-activation backward reads, and the hidden rows [M, H]. The gated activation writes its own output, so `first`
    // stays the pre-activation; the plain one works in place, so the pre-activation is copied first.
    private (DeviceTensor Pre, DeviceTensor Hidden) Activate(DeviceScratch scratch, DeviceTensor first, DeviceTensor counts)
    {
        long m = first.Shape[0];
        if (Shape.Gated)
        {
            DeviceTensor hidden = scratch.New(DType, m, Shape.HiddenDim);
            MoeKernels.GatedActivation(first, null, counts, Activation, hidden);
            return (first, hidden);
        }

        DeviceTensor pre = scratch.New(DType, m, Shape.FirstWidth);
        pre.CopyFrom(first);
        MoeKernels.BiasActivation(first, B1, counts, Activation);
        return (pre, first);
    }

    // Backward of Activate: dFirst [M, F] from the pre-activation and dHidden; returns the first bias's gradient
    // (float32 [E, F]) for plain experts, null for gated ones (no biases).
    private DeviceTensor? ActivationBackward(DeviceScratch scratch, DeviceTensor pre, DeviceTensor dHidden, DeviceTensor dFirst,
        DeviceTensor counts)
    {
        if (Shape.Gated)
        {
            MoeKernels.GatedActivationBackward(pre, null, counts, Activation, dHidden, dFirst);
            return null;
        }

        MoeKernels.BiasActivationBackward(pre, B1, counts, Activation, dHidden, dFirst);
        DeviceTensor dB1 = scratch.New(DType.Float32, Shape.Experts, Shape.FirstWidth);
        MoeKernels.BiasGradient(dFirst, counts, dB1);
        return dB1;
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

    /// <summary>The parameter gradients (B1, B2 null for gated experts; float32 biases) and the input rows' gradient.</summary>
    internal sealed record Gradients(DeviceTensor W1, DeviceTensor? B1, DeviceTensor W2, DeviceTensor? B2, DeviceTensor Rows)
    {
        /// <summary>The parameter gradients in <see cref="ExpertParameters.Tensors"/>' order.</summary>
        public IEnumerable<DeviceTensor> Tensors()
        {
            yield return W1;
            if (B1 is not null) yield return B1;
            yield return W2;
            if (B2 is not null) yield return B2;
        }

        /// <summary>Downloads the parameter gradients into <paramref name="into"/> (same sizes) as float64.</summary>
        public void Download(ExpertParameters into)
        {
            DeviceScratch.Download(W1, into.W1);
            if (B1 is not null) DeviceScratch.Download(B1, into.B1!);
            DeviceScratch.Download(W2, into.W2);
            if (B2 is not null) DeviceScratch.Download(B2, into.B2!);
        }
    }
}
