namespace GroupedGemm;

/// <summary>The allocator that owned <see cref="DeviceTensor"/> memory comes from when no context says otherwise.</summary>
public static class DeviceAllocator
{
    // cudaMalloc/cudaFree until the GPU suite has run with the caching allocator as the default (it has not yet run on a
    // GPU at all); a program opts in with DeviceAllocator.Default = CachingDeviceAllocator.Shared.
    private static IDeviceAllocator s_default = CudaMallocAllocator.Instance;

    /// <summary>
    /// The allocator of <see cref="DeviceTensor.Allocate(DType, long[])"/>, of host uploads and of the outputs of every
    /// call whose context has no <see cref="GroupedGemmContext.Allocator"/>. Initially
    /// <see cref="CudaMallocAllocator.Instance"/> (every allocation a cudaMalloc); set
    /// <see cref="CachingDeviceAllocator.Shared"/> to cache freed blocks for reuse in stream order.
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
