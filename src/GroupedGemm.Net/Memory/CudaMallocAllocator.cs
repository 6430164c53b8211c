using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// No cache: every allocation is a <c>cudaMalloc</c> and every free a <c>cudaFree</c> (which waits for the whole device).
/// The backing store of <see cref="CachingDeviceAllocator"/>, and a choice of its own for debugging memory errors
/// (a use after free then reads unmapped memory instead of a reused block).
/// </summary>
public sealed unsafe class CudaMallocAllocator : IDeviceAllocator
{
    private CudaMallocAllocator()
    {
    }

    /// <summary>The allocator (it holds no state).</summary>
    public static CudaMallocAllocator Instance { get; } = new();

    /// <inheritdoc/>
    public nint Allocate(int device, long bytes, nint stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_malloc(out nint pointer, (nuint)bytes));
        return pointer;
    }

    /// <inheritdoc/>
    public void Free(int device, nint pointer, long bytes, nint stream, bool usedOnOtherStreams)
    {
        // Best effort and never throwing (this may run on the finalizer thread): cudaFree waits for the device, so
        // work still queued on any stream finishes with the memory first.
        int previous = -1;
        if (NativeMethods.gg_get_device(out int current) == GgStatus.Success && current != device &&
            NativeMethods.gg_set_device(device) == GgStatus.Success)
        {
            previous = current;
        }

        _ = NativeMethods.gg_free((void*)pointer);
        if (previous >= 0) _ = NativeMethods.gg_set_device(previous);
    }
}
