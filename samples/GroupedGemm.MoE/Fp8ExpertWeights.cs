namespace GroupedGemm.MoE;

/// <summary>
/// The routed experts' two weight matrices for <c>--dtype float8</c>: each transposed to [E, N, K] (the inference
/// layout, the one the Hopper FP8 kernel reads) and quantized on the device to E4M3 with Float32 scales
/// (<see cref="Fp8Scaling"/>): one per (expert, output column), torch._scaled_grouped_mm's row-wise weight scales, or one
/// per 128×128 block of each expert's [N, K], DeepGEMM's. Made from the same bf16-rounded values as the bf16 layer's
/// weights, so that the two layers differ only by the FP8 quantization.
/// </summary>
internal sealed class Fp8ExpertWeights : IDisposable
{
    /// <summary>Quantizes w1 [E, D, FW] and w2 [E, H, D] (host values, row-major).</summary>
    public Fp8ExpertWeights(float[] w1, float[] w2, int experts, int embedDim, int hiddenDim, int firstWidth, ScaleMode mode)
    {
        Mode = mode;
        (W1, W1Scale) = Quantize(w1, experts, embedDim, firstWidth, mode);
        (W2, W2Scale) = Quantize(w2, experts, hiddenDim, embedDim, mode);
    }

    /// <summary>The scaling of these weights, which the activations take too.</summary>
    public ScaleMode Mode { get; }

    /// <summary>W1ᵀ [E, FW, D], E4M3.</summary>
    public DeviceTensor W1 { get; }

    /// <summary>Scales of W1: [E, FW] row-wise, [E, ceil(FW/128), ceil(D/128)] in blocks; Float32.</summary>
    public DeviceTensor W1Scale { get; }

    /// <summary>W2ᵀ [E, D, H], E4M3.</summary>
    public DeviceTensor W2 { get; }

    /// <summary>Scales of W2: [E, D] row-wise, [E, ceil(D/128), ceil(H/128)] in blocks; Float32.</summary>
    public DeviceTensor W2Scale { get; }

    /// <summary>Frees the device weights and scales.</summary>
    public void Dispose()
    {
        W1.Dispose();
        W1Scale.Dispose();
        W2.Dispose();
        W2Scale.Dispose();
    }

    // w [E, K, N] on the host -> (q [E, N, K] E4M3, scales [E, N] or [E, ceil(N/128), ceil(K/128)]) on the device.
    private static (DeviceTensor Q, DeviceTensor Scales) Quantize(float[] w, int experts, int k, int n, ScaleMode mode)
    {
        using DeviceTensor rows = HostValues.Upload(HostValues.TransposeExperts(w, experts, k, n), DType.BFloat16, experts, n, k);
        DeviceTensor q = DeviceTensor.Allocate(DType.Float8E4M3, experts, n, k);
        DeviceTensor scales;
        if (mode == ScaleMode.Blockwise)
        {
            scales = DeviceTensor.Allocate(DType.Float32, experts, Fp8Scaling.Blocks(n), Fp8Scaling.Blocks(k));
            MoeKernels.QuantizeFp8Blocks(rows, q, scales, Fp8Scaling.Block, CudaStream.Default);
        }
        else
        {
            scales = DeviceTensor.Allocate(DType.Float32, experts, n);
            MoeKernels.QuantizeFp8Rows(rows.Reshape((long)experts * n, k), q.Reshape((long)experts * n, k),
                scales.Reshape((long)experts * n), stream: CudaStream.Default);
        }

        CudaStream.Default.Synchronize();
        return (q, scales);
    }
}
