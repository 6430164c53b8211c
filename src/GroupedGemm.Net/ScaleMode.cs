namespace GroupedGemm;

/// <summary>How the scales of a scaled (FP8) grouped GEMM map onto its operands; the values are those of the native <c>gg_scale_mode</c>.</summary>
public enum ScaleMode
{
    /// <summary>
    /// torch._scaled_grouped_mm's row-wise scales: one float per row of x ([M]) and one per expert and output column
    /// of w ([E, N]).
    /// </summary>
    Rowwise = 0,

    /// <summary>
    /// DeepGEMM's block scales: x [M, ceil(K/128)] (1×128 along K) and w [E, ceil(N/128), ceil(K/128)] (128×128 blocks,
    /// indexed [n block, k block] in both layouts): each 128-deep block of K is summed in fp32, scaled by its two
    /// scales and added to the output's fp32 sum. <see cref="ScaledGemmKernel.Portable"/> runs every shape;
    /// <see cref="ScaledGemmKernel.CutlassSm90"/> runs it where it runs row-wise scales (E4M3 × E4M3, <c>transB</c>, K and
    /// N multiples of 16; a last scale block shorter than 128 included), and answers <see cref="GroupedGemmStatus.NotSupported"/> for the
    /// others; Auto runs CutlassSm90 where it takes the call and the portable kernel elsewhere.
    /// </summary>
    Blockwise = 1,
}

/// <summary>The kernel that runs a scaled grouped GEMM; the values are those of the native <c>gg_scaled_kernel</c>.</summary>
public enum ScaledGemmKernel
{
    /// <summary>The fastest compiled kernel that takes the call on the context's device.</summary>
    Auto = 0,

    /// <summary>A plain tiled CUDA kernel for compute capability 8.0 and newer (FP8 decoded in the kernel, fp32 math).</summary>
    Portable = 1,

    /// <summary>The CUTLASS FP8 grouped kernel for sm_90a (E4M3 × E4M3, fp32 accumulation with promotion).</summary>
    CutlassSm90 = 2,

    /// <summary>
    /// The decode kernel: FP8 tensor-core instructions fed from global memory in one launch, for a few rows per expert
    /// (M ≤ 256, at most 1024 experts, <c>transB</c>, K a multiple of 16; compute capability 8.9 or newer with code
    /// built for it; every FP8 pair and both scale modes). Answers <see cref="GroupedGemmStatus.NotSupported"/> for
    /// other calls.
    /// </summary>
    Decode = 3,
}
