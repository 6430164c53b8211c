namespace GroupedGemm;

/// <summary>Per-call options of the scaled (FP8) grouped GEMM, <see cref="GroupedGemmContext.GmmScaled"/>.</summary>
public sealed record ScaledGmmOptions
{
    /// <summary>How the scales map onto the operands; <see cref="ScaleMode.Rowwise"/> by default.</summary>
    public ScaleMode ScaleMode { get; init; } = ScaleMode.Rowwise;

    /// <summary>The kernel for this call; <see cref="ScaledGemmKernel.Auto"/> by default.</summary>
    public ScaledGemmKernel Kernel { get; init; } = ScaledGemmKernel.Auto;

    /// <summary>The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</summary>
    public CudaStream? Stream { get; init; }

    /// <summary>Device batch sizes only: check them on the device, as <see cref="GmmOptions.CheckCounts"/>.</summary>
    public bool CheckCounts { get; init; }

    /// <summary>
    /// Check on the device that every scale is finite and throw <see cref="GroupedGemmException"/> naming the first
    /// that is not. This synchronises the stream, so it cannot be used inside a graph capture. Without it a non-finite
    /// scale makes the rows or columns it scales non-finite, and nothing else. Shapes, types, devices and overlaps are
    /// always checked on the host.
    /// </summary>
    public bool CheckScales { get; init; }
}
