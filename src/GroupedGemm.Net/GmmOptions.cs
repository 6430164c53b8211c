namespace GroupedGemm;

/// <summary>Per-call options of the grouped GEMM methods.</summary>
public sealed record GmmOptions
{
    /// <summary>The backend for this call; <see cref="GemmBackend.Auto"/> (the default) defers to the context's <see cref="GroupedGemmContext.Backend"/>.</summary>
    public GemmBackend Backend { get; init; } = GemmBackend.Auto;

    /// <summary>The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</summary>
    public CudaStream? Stream { get; init; }

    /// <summary>
    /// Device batch sizes only: check the counts on the device and throw <see cref="GroupedGemmException"/> with
    /// <see cref="GroupedGemmStatus.InvalidCounts"/> when they are negative or do not sum to the row count.
    /// This synchronises the stream, so it cannot be used inside a graph capture. Without it, bad device counts
    /// are clamped so that nothing is written outside the output. Host counts are always checked.
    /// </summary>
    public bool CheckCounts { get; init; }
}
