using GroupedGemm.Interop;

namespace GroupedGemm;

// The scaled (FP8) grouped GEMM, torch._scaled_grouped_mm's semantics. (No XML summary here: the class's summary is in
// GroupedGemmContext.cs.)
public sealed unsafe partial class GroupedGemmContext
{
    /// <summary>
    /// Scaled grouped GEMM: x [M, K] · w [E, K, N] (or w [E, N, K] with <paramref name="transB"/>) → a new BFloat16
    /// [M, N], output[r, j] = xScale[r] · wScale[e, j] · Σ_k x[r, k] · w[e, k, j] for row-wise scales (e the expert of
    /// row r), with FP8 operands, fp32 products and sums, and one rounding to bf16.
    /// </summary>
    /// <param name="x">The rows, grouped by expert: [M, K], <see cref="DType.Float8E4M3"/> or <see cref="DType.Float8E5M2"/>.</param>
    /// <param name="xScale">Float32 scales of x: [M] row-wise (any shape with that many elements).</param>
    /// <param name="w">The expert weights: [E, K, N], or [E, N, K] when <paramref name="transB"/>; FP8.</param>
    /// <param name="wScale">Float32 scales of w: [E, N] row-wise (one per expert and output column).</param>
    /// <param name="batchSizes">Rows per expert, E values, non-negative, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="transB">Whether <paramref name="w"/> is stored [E, N, K] (the inference layout).</param>
    /// <param name="options">Scale mode, kernel, stream, checks; null for defaults.</param>
    /// <returns>A new BFloat16 [M, N] tensor (the caller disposes it).</returns>
    /// <exception cref="ArgumentException">A shape, element type, device or overlap does not fit; the message names the argument.</exception>
    /// <exception cref="GroupedGemmException">The native call failed (no kernel takes the call, a non-finite scale with <see cref="ScaledGmmOptions.CheckScales"/>).</exception>
    public DeviceTensor GmmScaled(DeviceTensor x, DeviceTensor xScale, DeviceTensor w, DeviceTensor wScale, BatchSizes batchSizes,
        bool transB = false, ScaledGmmOptions? options = null)
    {
        ScaledGmmDims dims = ScaledGmmValidation.Validate(x, xScale, w, wScale, batchSizes, null, transB,
            options?.ScaleMode ?? ScaleMode.Rowwise, Device,
            options?.Kernel ?? ScaledGemmKernel.Auto);
        GmmValidation.CheckOutputSize(DType.BFloat16, [dims.M, dims.N], nameof(w));
        using var outputs = new PendingOutputs();
        DeviceTensor output = outputs.Allocate(Device, DType.BFloat16, [dims.M, dims.N], options?.Stream, Allocator);
        RunScaled(x, xScale, w, wScale, batchSizes, output, dims, transB, options);
        return outputs.HandOver(output);
    }

    /// <summary>
    /// <see cref="GmmScaled"/> into an existing BFloat16 [M, N] output. With device batch sizes (and without the
    /// checks of <paramref name="options"/>) it neither synchronises nor allocates: it can be captured in a CUDA graph.
    /// </summary>
    /// <param name="x">[M, K], FP8.</param>
    /// <param name="xScale">Float32 scales of x.</param>
    /// <param name="w">[E, K, N], or [E, N, K] with <paramref name="transB"/>; FP8.</param>
    /// <param name="wScale">Float32 scales of w.</param>
    /// <param name="batchSizes">Rows per expert.</param>
    /// <param name="output">BFloat16 [M, N]; must not overlap an input.</param>
    /// <param name="transB">Whether <paramref name="w"/> is stored [E, N, K].</param>
    /// <param name="options">Scale mode, kernel, stream, checks; null for defaults.</param>
    /// <exception cref="ArgumentException">A shape, element type, device or overlap does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public void GmmScaledInto(DeviceTensor x, DeviceTensor xScale, DeviceTensor w, DeviceTensor wScale, BatchSizes batchSizes,
        DeviceTensor output, bool transB = false, ScaledGmmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ScaledGmmDims dims = ScaledGmmValidation.Validate(x, xScale, w, wScale, batchSizes, output, transB,
            options?.ScaleMode ?? ScaleMode.Rowwise, Device,
            options?.Kernel ?? ScaledGemmKernel.Auto);
        RunScaled(x, xScale, w, wScale, batchSizes, output, dims, transB, options);
    }

    private void RunScaled(DeviceTensor x, DeviceTensor xScale, DeviceTensor w, DeviceTensor wScale, BatchSizes counts,
        DeviceTensor output, ScaledGmmDims dims, bool transB, ScaledGmmOptions? options)
    {
        using var lease = new CallLease();
        var args = new GgScaledGmmArgs
        {
            A = (void*)lease.Pointer(x),
            B = (void*)lease.Pointer(w),
            C = (void*)lease.Pointer(output),
            AScale = (float*)lease.Pointer(xScale),
            BScale = (float*)lease.Pointer(wScale),
            BatchSizes = counts.Take(lease),
            M = dims.M,
            K = dims.K,
            N = dims.N,
            NumExperts = dims.Experts,
            AScaleCount = dims.XScales,
            BScaleCount = dims.WScales,
            ADtype = (GgDType)x.DType,
            BDtype = (GgDType)w.DType,
            CDtype = GgDType.BFloat16,
            ScaleMode = (GgScaleMode)(options?.ScaleMode ?? ScaleMode.Rowwise),
            CountsLocation = counts.Location,
            TransB = transB ? 1 : 0,
            CheckCounts = options?.CheckCounts == true ? 1 : 0,
            CheckScales = options?.CheckScales == true ? 1 : 0,
            Kernel = (GgScaledKernel)(options?.Kernel ?? ScaledGemmKernel.Auto),
            Reserved = 0,
            Stream = (void*)lease.Stream(options?.Stream),
        };
        NativeStatus.Check(NativeMethods.gg_gmm_scaled(lease.Handle(_handle, this), &args));
    }
}
