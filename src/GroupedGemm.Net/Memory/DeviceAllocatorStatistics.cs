namespace GroupedGemm;

/// <summary>What a <see cref="CachingDeviceAllocator"/> has done since it was made (all devices together).</summary>
/// <param name="BackingAllocations">Blocks taken from the backing allocator (<c>cudaMalloc</c> calls with the default one).</param>
/// <param name="BackingFrees">Blocks given back to the backing allocator (<c>cudaFree</c> calls with the default one).</param>
/// <param name="CacheHits">Allocations served from a cached block, without the backing allocator.</param>
/// <param name="OutOfMemoryRetries">Allocations that failed, emptied the cache and tried again.</param>
/// <param name="BytesReserved">Bytes held from the backing allocator now: in use plus cached.</param>
/// <param name="BytesInUse">Bytes of blocks handed out and not yet freed (block sizes, rounded up).</param>
/// <param name="PeakBytesReserved">The largest <paramref name="BytesReserved"/> since the last <see cref="CachingDeviceAllocator.ResetPeaks"/>.</param>
/// <param name="PeakBytesInUse">The largest <paramref name="BytesInUse"/> since the last <see cref="CachingDeviceAllocator.ResetPeaks"/>.</param>
public readonly record struct DeviceAllocatorStatistics(
    long BackingAllocations,
    long BackingFrees,
    long CacheHits,
    long OutOfMemoryRetries,
    long BytesReserved,
    long BytesInUse,
    long PeakBytesReserved,
    long PeakBytesInUse)
{
    /// <summary>Bytes cached: held from the backing allocator but not handed out.</summary>
    public long BytesCached => BytesReserved - BytesInUse;
}
