namespace GroupedGemm;

/// <summary>Grouped GEMM implementations of the native library; the values are those of <c>gg_backend</c>.</summary>
public enum GemmBackend
{
    /// <summary>The fastest compiled backend that can take the call on the device at hand.</summary>
    Auto = 0,

    /// <summary>One <c>cublasGemmEx</c> per expert (host batch sizes only).</summary>
    CublasLoop = 1,

    /// <summary>One <c>cublasGemmGroupedBatchedEx</c> call (CUDA 12.5 or newer, host batch sizes only).</summary>
    CublasGrouped = 2,

    /// <summary>CUTLASS 2.x grouped GEMM for sm_80 and newer; host or device batch sizes.</summary>
    CutlassSm80 = 3,

    /// <summary>CUTLASS 3.x TMA warp-specialized pointer-array grouped GEMM for sm_90a; host or device batch sizes.</summary>
    CutlassSm90 = 4,
}
