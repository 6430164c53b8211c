namespace GroupedGemm.Tests.Memory;

/// <summary>
/// A backing allocator without a device: hands out made-up, 512-byte aligned addresses and records every call, and can
/// be told to run out of memory. Lets the caching allocator's logic be tested on machines without a GPU.
/// </summary>
internal sealed class FakeBackingAllocator : IDeviceAllocator
{
    private readonly object _lock = new();
    private long _next = 0x10_0000_0000;

    /// <summary>Allocation sizes asked of this allocator, in order.</summary>
    internal List<long> Allocations { get; } = [];

    /// <summary>Frees received: address, stream and whether the block was used on other streams.</summary>
    internal List<(nint Pointer, nint Stream, bool UsedOnOtherStreams)> Frees { get; } = [];

    /// <summary>Bytes held from this allocator now.</summary>
    internal long Held { get; private set; }

    /// <summary>When set, an allocation that would make <see cref="Held"/> exceed it throws <see cref="CudaOutOfMemoryException"/>.</summary>
    internal long? Capacity { get; set; }

    private readonly Dictionary<nint, long> _sizes = [];

    public nint Allocate(int device, long bytes, nint stream)
    {
        lock (_lock)
        {
            if (Capacity is long capacity && Held + bytes > capacity)
                throw new CudaOutOfMemoryException($"fake: {bytes} bytes asked, {Held} of {capacity} held");
            nint pointer = (nint)_next;
            _next += (bytes + 511) / 512 * 512 + 512;
            Allocations.Add(bytes);
            _sizes[pointer] = bytes;
            Held += bytes;
            return pointer;
        }
    }

    public void Free(int device, nint pointer, long bytes, nint stream, bool usedOnOtherStreams)
    {
        lock (_lock)
        {
            Frees.Add((pointer, stream, usedOnOtherStreams));
            Held -= _sizes[pointer];
            _sizes.Remove(pointer);
        }
    }
}
