namespace GroupedGemm;

/// <summary>
/// Where owned <see cref="DeviceTensor"/> memory comes from. The package's default is a
/// <see cref="CachingDeviceAllocator"/> (<see cref="DeviceAllocator.Default"/>); a framework that manages device memory
/// itself (a PyTorch-style caching allocator, a memory pool of its own) implements this interface and sets it globally
/// (<see cref="DeviceAllocator.Default"/>) or per context (<see cref="GroupedGemmContext.Allocator"/>).
/// </summary>
/// <remarks>
/// <para>
/// Stream order: every block is allocated for one stream, the one its first work is queued on (the call's stream, or
/// the ambient <see cref="CudaStream.Current"/>). When the block is freed, work queued on that stream may still be
/// using it, so an implementation may hand it out again at once only for the same stream (whose order makes the
/// new work wait for the old); for another stream only after that work is known to be done (an event, a
/// synchronisation). <c>usedOnOtherStreams</c> says that calls used the block on streams other than its own as well;
/// such a block must not be reused before the device has finished the work queued before the free. Since a block
/// handed out may be in use by earlier work on its stream, the library waits for the device before a block's first use
/// on another stream, unless the allocator is <see cref="CudaMallocAllocator"/> or a cache miss of
/// <see cref="CachingDeviceAllocator"/> (new memory).
/// </para>
/// <para>
/// Threads: both methods may be called from any thread at once, and <see cref="Free"/> also from the finalizer thread
/// (a tensor that was never disposed). <see cref="Free"/> must not throw.
/// </para>
/// </remarks>
public interface IDeviceAllocator
{
    /// <summary>Allocates <paramref name="bytes"/> of device memory on <paramref name="device"/> for work on <paramref name="stream"/>.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="bytes">The size, at least 1.</param>
    /// <param name="stream">The <c>cudaStream_t</c> the block's first work is queued on (zero: the legacy default stream).</param>
    /// <returns>The device address, aligned to at least 256 bytes.</returns>
    /// <exception cref="CudaOutOfMemoryException">The device has no room for the block.</exception>
    nint Allocate(int device, long bytes, nint stream);

    /// <summary>Takes back a block from <see cref="Allocate"/> once no call holds it any more; must not throw.</summary>
    /// <param name="device">The device given to <see cref="Allocate"/>.</param>
    /// <param name="pointer">The address <see cref="Allocate"/> returned.</param>
    /// <param name="bytes">The size given to <see cref="Allocate"/>.</param>
    /// <param name="stream">The stream given to <see cref="Allocate"/>.</param>
    /// <param name="usedOnOtherStreams">Whether calls also used the block on streams other than <paramref name="stream"/>.</param>
    void Free(int device, nint pointer, long bytes, nint stream, bool usedOnOtherStreams);
}
