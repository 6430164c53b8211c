namespace GroupedGemm;

/// <summary>The allocator that owned <see cref="DeviceTensor"/> memory comes from when no context says otherwise.</summary>
public static class DeviceAllocator
{
    // Caching by default: the whole GPU suite passed with it as the default (H100, 2026-12-05), and a loop of calls then
    // makes no cudaMalloc/cudaFree (cudaFree waits for the whole device) after its first iterations.
    private static IDeviceAllocator s_default = CachingDeviceAllocator.Shared;

    /// <summary>
    /// The allocator of <see cref="DeviceTensor.Allocate(DType, long[])"/>, of host uploads and of the outputs of every
    /// call whose context has no <see cref="GroupedGemmContext.Allocator"/>. Initially
    /// <see cref="CachingDeviceAllocator.Shared"/>; <see cref="CudaMallocAllocator.Instance"/> turns caching off.
    /// Tensors allocated before a change are freed to the allocator that made them.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static IDeviceAllocator Default
    {
        get => Volatile.Read(ref s_default);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Volatile.Write(ref s_default, value);
        }
    }
}
