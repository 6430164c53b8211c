namespace GroupedGemm;

/// <summary>Properties of one CUDA device.</summary>
/// <param name="Ordinal">The device ordinal.</param>
/// <param name="Name">The device name (e.g. "NVIDIA H100 80GB HBM3").</param>
/// <param name="Major">Compute capability, major part (9 for H100).</param>
/// <param name="Minor">Compute capability, minor part.</param>
/// <param name="MultiprocessorCount">Number of streaming multiprocessors.</param>
/// <param name="TotalMemory">Total device memory in bytes.</param>
/// <param name="L2CacheSize">L2 cache size in bytes.</param>
/// <param name="SharedMemoryPerBlockOptin">Largest opt-in shared memory per block, in bytes.</param>
public sealed record CudaDeviceProperties(
    int Ordinal,
    string Name,
    int Major,
    int Minor,
    int MultiprocessorCount,
    long TotalMemory,
    long L2CacheSize,
    long SharedMemoryPerBlockOptin)
{
    /// <summary>The compute capability as text, e.g. "9.0".</summary>
    public string ComputeCapability => $"{Major}.{Minor}";
}
