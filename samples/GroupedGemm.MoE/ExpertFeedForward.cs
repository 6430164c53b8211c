namespace GroupedGemm.MoE;

/// <summary>
/// E expert feed-forward networks x → W2ᵀ·hidden(x·W1 + b1) + b2, held on the host (float values rounded to the
/// device type, for the reference) and, when a device is used, on the device. Subclasses define the hidden step
/// (plain activation or gated). Three forms: grouped (sorted rows + device counts, one grouped GEMM per layer),
/// padded (a strided-batched GEMM over [E, capacity, ·]), and the float64 reference of one expert on one row.
/// </summary>
internal abstract class ExpertFeedForward : IDisposable
{
    private readonly float[] _w1, _w2;
    private readonly float[]? _b1, _b2;
    // The weights as each FP8 scaling quantizes them and back, for the emulation (built on first use).
    private readonly Dictionary<ScaleMode, Lazy<(float[] W1, float[] W2)>> _fp8Weights;

    /// <summary>Initialises the weights uniformly in ±1/sqrt(fan_in) from <paramref name="random"/>.</summary>
    protected ExpertFeedForward(int experts, int embedDim, int hiddenDim, int firstWidth, bool withBias, DType dtype,
        Activation activation, Random random, bool onDevice)
    {
        Experts = experts;
        EmbedDim = embedDim;
        HiddenDim = hiddenDim;
        FirstWidth = firstWidth;
        DType = dtype;
        Activation = activation;
        double bound1 = 1 / Math.Sqrt(embedDim), bound2 = 1 / Math.Sqrt(hiddenDim);
        _w1 = HostValues.Uniform(random, (long)experts * embedDim * firstWidth, bound1, dtype);
        _b1 = withBias ? HostValues.Uniform(random, (long)experts * firstWidth, bound1, dtype) : null;
        _w2 = HostValues.Uniform(random, (long)experts * hiddenDim * embedDim, bound2, dtype);
        _b2 = withBias ? HostValues.Uniform(random, (long)experts * embedDim, bound2, dtype) : null;
        _fp8Weights = Enum.GetValues<ScaleMode>().ToDictionary(mode => mode, mode => new Lazy<(float[], float[])>(() => (
            DequantizedFp8(_w1, experts, embedDim, firstWidth, mode), DequantizedFp8(_w2, experts, hiddenDim, embedDim, mode))));
        if (!onDevice) return;
        W1 = HostValues.Upload(_w1, dtype, experts, embedDim, firstWidth);
        B1 = _b1 is null ? null : HostValues.Upload(_b1, dtype, experts, firstWidth);
        W2 = HostValues.Upload(_w2, dtype, experts, hiddenDim, embedDim);
        B2 = _b2 is null ? null : HostValues.Upload(_b2, dtype, experts, embedDim);
    }

    public int Experts { get; }

    public int EmbedDim { get; }

    public int HiddenDim { get; }

    /// <summary>Columns of the first GEMM's output: H, or 2H (gate | up) for the gated form.</summary>
    public int FirstWidth { get; }

    public DType DType { get; }

    public Activation Activation { get; }

    protected DeviceTensor? W1 { get; }

    protected DeviceTensor? B1 { get; }

    protected DeviceTensor? W2 { get; }

    protected DeviceTensor? B2 { get; }

    /// <summary>Grouped form: sorted rows xs [M, D] with device counts [E] → expert outputs [M, D] (rented from the pool).</summary>
    public DeviceTensor ForwardGrouped(GroupedGemmContext context, DeviceTensor xs, DeviceTensor counts, DevicePool pool, CudaStream stream)
    {
        var options = new GmmOptions { Stream = stream };
        long rows = xs.Shape[0];
        DeviceTensor first = pool.Rent(DType, rows, FirstWidth);
        context.GmmInto(xs, W1!, counts, first, options: options);
        DeviceTensor hidden = HiddenGrouped(first, counts, pool, stream);
        DeviceTensor output = pool.Rent(DType, rows, EmbedDim);
        context.GmmInto(hidden, W2!, counts, output, options: options);
        pool.Return(hidden);
        if (B2 is not null) MoeKernels.BiasActivation(output, B2, counts, Activation.None, stream);
        return output;
    }

    /// <summary>The expert weights in FP8 for <see cref="ForwardGroupedFp8"/>, with <paramref name="mode"/>'s scales (the caller
    /// disposes them).</summary>
    public Fp8ExpertWeights QuantizeToFp8(ScaleMode mode) => new(_w1, _w2, Experts, EmbedDim, HiddenDim, FirstWidth, mode);

    /// <summary>
    /// Grouped form with FP8 experts (<c>--dtype float8</c>): as <see cref="ForwardGrouped"/>, but each grouped GEMM is
    /// the scaled one with the weights from <paramref name="fp8"/> and their scaling (<see cref="Fp8ExpertWeights.Mode"/>):
    /// the first on the sorted rows already in E4M3 (<paramref name="xq"/>, their scales in <paramref name="xScales"/>,
    /// from the fused gather), the second on the hidden activations quantized just before it; biases, activation and
    /// outputs stay bf16.
    /// </summary>
    public DeviceTensor ForwardGroupedFp8(GroupedGemmContext context, DeviceTensor xq, DeviceTensor xScales, DeviceTensor counts,
        Fp8ExpertWeights fp8, DevicePool pool, CudaStream stream)
    {
        var options = new ScaledGmmOptions { Stream = stream, ScaleMode = fp8.Mode };
        long rows = xq.Shape[0];
        DeviceTensor first = pool.Rent(DType.BFloat16, rows, FirstWidth);
        context.GmmScaledInto(xq, xScales, fp8.W1, fp8.W1Scale, counts, first, transB: true, options);
        DeviceTensor hidden = HiddenGrouped(first, counts, pool, stream);
        DeviceTensor output = pool.Rent(DType.BFloat16, rows, EmbedDim);
        ScaledGemm(context, hidden, fp8.W2, fp8.W2Scale, counts, output, options, pool, stream);
        pool.Return(hidden);
        if (B2 is not null) MoeKernels.BiasActivation(output, B2, counts, Activation.None, stream);
        return output;
    }

    /// <summary>
    /// Padded form: x [E, capacity, D] (or a 2-D [capacity, D] shared by every expert, for dense shared experts) →
    /// [E, capacity, D] (rented from the pool), by strided-batched GEMMs.
    /// </summary>
    public DeviceTensor ForwardPadded(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream)
    {
        long capacity = x.Shape[^2];
        DeviceTensor first = pool.Rent(DType, Experts, capacity, FirstWidth);
        context.GemmInto(x, W1!, first, stream: stream);
        DeviceTensor hidden = HiddenPadded(first, pool, stream);
        DeviceTensor output = pool.Rent(DType, Experts, capacity, EmbedDim);
        context.GemmInto(hidden, W2!, output, stream: stream);
        pool.Return(hidden);
        if (B2 is not null) MoeKernels.BiasActivationPadded(output, B2, Activation.None, stream);
        return output;
    }

    /// <summary>Float64 reference: output += weight · expert_e(x) for one row x [D].</summary>
    public void ReferenceAccumulate(int expert, ReadOnlySpan<double> x, double weight, Span<double> output)
    {
        var first = new double[FirstWidth];
        ReferenceMath.RowTimesMatrix(x, _w1, (long)expert * EmbedDim * FirstWidth, FirstWidth, _b1, (long)expert * FirstWidth, first);
        var hidden = new double[HiddenDim];
        HiddenReference(first, hidden);
        var y = new double[EmbedDim];
        ReferenceMath.RowTimesMatrix(hidden, _w2, (long)expert * HiddenDim * EmbedDim, EmbedDim, _b2, (long)expert * EmbedDim, y);
        for (int d = 0; d < EmbedDim; d++) output[d] += weight * y[d];
    }

    // output = rows · wᵀ with rows quantized to E4M3 with options.ScaleMode's scales (scaled grouped GEMM, w [E, N, K]).
    private static void ScaledGemm(GroupedGemmContext context, DeviceTensor rows, DeviceTensor w, DeviceTensor wScale,
        DeviceTensor counts, DeviceTensor output, ScaledGmmOptions options, DevicePool pool, CudaStream stream)
    {
        int cols = checked((int)rows.Shape[1]);
        DeviceTensor q = pool.Rent(DType.Float8E4M3, rows.Shape[0], cols);
        DeviceTensor scales = Fp8Scaling.RentRowScales(pool, options.ScaleMode, rows.Shape[0], cols);
        MoeKernels.QuantizeFp8Rows(rows, q, scales, Fp8Scaling.RowBlockCols(options.ScaleMode), stream);
        context.GmmScaledInto(q, scales, w, wScale, counts, output, transB: true, options);
        pool.Return(q);
        pool.Return(scales);
    }

    /// <summary>
    /// Float64 emulation of <see cref="ForwardGroupedFp8"/> for one row: output += weight · expert_e(x), with x and the
    /// hidden row quantized to E4M3 and the weights as <see cref="Fp8ExpertWeights"/> quantizes them, both with
    /// <paramref name="mode"/>'s scales (<see cref="Fp8Reference"/>), everything else in float64. The FP8 path's own
    /// error is its distance from this; this one's distance from <see cref="ReferenceAccumulate"/> is what FP8 costs the
    /// layer.
    /// </summary>
    public void ReferenceAccumulateFp8(int expert, ReadOnlySpan<double> x, double weight, Span<double> output, ScaleMode mode)
    {
        (float[] w1, float[] w2) = _fp8Weights[mode].Value;
        var first = new double[FirstWidth];
        ReferenceMath.RowTimesMatrix(QuantizedFp8(x, mode), w1, (long)expert * EmbedDim * FirstWidth, FirstWidth, _b1, (long)expert * FirstWidth, first);
        var hidden = new double[HiddenDim];
        HiddenReference(first, hidden);
        var y = new double[EmbedDim];
        ReferenceMath.RowTimesMatrix(QuantizedFp8(hidden, mode), w2, (long)expert * HiddenDim * EmbedDim, EmbedDim, _b2, (long)expert * EmbedDim, y);
        for (int d = 0; d < EmbedDim; d++) output[d] += weight * y[d];
    }

    // One row quantized to E4M3 with mode's scales (one, or one per 128 columns) and back (what QuantizeFp8Rows does to
    // each row on the device).
    private static double[] QuantizedFp8(ReadOnlySpan<double> row, ScaleMode mode)
    {
        float[] values = new float[row.Length];
        for (int i = 0; i < row.Length; i++) values[i] = (float)row[i];
        byte[] q = new byte[row.Length];
        int blockCols = Fp8Scaling.RowBlockCols(mode);
        float[] scale = new float[Fp8Scaling.ScalesPerRow(mode, row.Length)];
        Fp8Reference.QuantizeRows(values, 1, row.Length, blockCols, DType.Float8E4M3, q, scale);
        return Fp8Reference.DequantizeRows(q, scale, 1, row.Length, blockCols, DType.Float8E4M3);
    }

    // w [E, K, N] quantized to E4M3 and back as Fp8ExpertWeights does on the device to w transposed to [E, N, K]: each
    // (expert, column) over its K values, or each 128×128 block of [N, K]; returned in w's own layout, as float (code ×
    // scale rounded once to float32, 6e-8 of itself: nothing next to E4M3's 2^-4).
    private static float[] DequantizedFp8(float[] w, int experts, int k, int n, ScaleMode mode)
    {
        int rows = checked(experts * n);
        float[] transposed = HostValues.TransposeExperts(w, experts, k, n);
        byte[] q = new byte[transposed.LongLength];
        double[] back;
        if (mode == ScaleMode.Blockwise)
        {
            const int b = Fp8Scaling.Block;
            float[] scales = new float[checked(experts * Fp8Scaling.Blocks(n) * Fp8Scaling.Blocks(k))];
            Fp8Reference.QuantizeBlocks(transposed, experts, n, k, b, DType.Float8E4M3, q, scales);
            back = Fp8Reference.DequantizeBlocks(q, scales, experts, n, k, b, DType.Float8E4M3);
        }
        else
        {
            float[] scales = new float[rows];
            Fp8Reference.QuantizeRows(transposed, rows, k, 0, DType.Float8E4M3, q, scales);
            back = Fp8Reference.DequantizeRows(q, scales, rows, k, 0, DType.Float8E4M3);
        }

        return HostValues.TransposeExperts(Array.ConvertAll(back, v => (float)v), experts, n, k);
    }

    /// <summary>Frees the device weights.</summary>
    public void Dispose()
    {
        W1?.Dispose();
        B1?.Dispose();
        W2?.Dispose();
        B2?.Dispose();
    }

    /// <summary>The hidden step on sorted rows: takes ownership of <paramref name="first"/> [M, FirstWidth], returns [M, H].</summary>
    protected abstract DeviceTensor HiddenGrouped(DeviceTensor first, DeviceTensor counts, DevicePool pool, CudaStream stream);

    /// <summary>The hidden step on a padded batch: takes ownership of <paramref name="first"/> [E, cap, FirstWidth], returns [E, cap, H].</summary>
    protected abstract DeviceTensor HiddenPadded(DeviceTensor first, DevicePool pool, CudaStream stream);

    /// <summary>The hidden step of the reference on one row (bias already added).</summary>
    protected abstract void HiddenReference(ReadOnlySpan<double> first, Span<double> hidden);
}
