using System.Runtime.CompilerServices;
using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// The default device allocator: blocks freed by disposed tensors are kept and handed out again, so that a loop of
/// calls (a training step, <c>Ops.Gmm</c> a thousand times) stops calling <c>cudaMalloc</c> and <c>cudaFree</c> (whose
/// device-wide synchronisation would otherwise stall every free) after its first iterations.
/// </summary>
/// <remarks>
/// <para>
/// Stream order: a cached block is handed out again only for the stream it was allocated for, so the new work is
/// queued behind whatever may still be using it. A block that calls also used on other streams is given back to the
/// backing allocator instead of being cached (<c>cudaFree</c> waits for the device). A cached block whose first use is
/// on another stream than its own (a tensor allocated for the legacy default stream and written by a call on a
/// stream of its own) waits for the device first (the library's calls, <see cref="DeviceTensor.RecordStream"/>, and
/// <see cref="CudaGraph.Capture"/> once the capture has ended do it); a graph launch notes its stream on the blocks the
/// graph holds.
/// </para>
/// <para>
/// Sizes are rounded up: to a multiple of 512 bytes below 1 MiB, to a multiple of 2 MiB above. A request is served
/// by the smallest cached block of its device and stream that is at least the rounded size and at most twice it
/// (below 1 MiB) or a quarter more (above), so that a large block does not hide a small footprint.
/// </para>
/// <para>
/// Out of memory: when the backing allocator throws <see cref="CudaOutOfMemoryException"/>, the allocator synchronises
/// the device, gives every cached block of it back and tries once more; the second failure propagates.
/// <see cref="EmptyCache"/> does the same for all devices on request (before handing the GPU to another library).
/// All members are thread-safe; frees may come from the finalizer thread.
/// </para>
/// <para>
/// Destroyed streams: when a stream made by <see cref="CudaStream.Create()"/> is destroyed, the blocks cached for it go
/// back to the backing allocator, and blocks allocated for it and freed later are not cached (CUDA may give a new
/// stream the same handle, and that stream would not wait for the old one's work). A stream wrapped from another
/// framework is destroyed there, unseen: call <see cref="EmptyCache"/> after destroying such a stream that blocks were
/// allocated for.
/// </para>
/// </remarks>
public sealed class CachingDeviceAllocator : IDeviceAllocator
{
    private const long SmallLimit = 1L << 20;
    private const long SmallRounding = 512;
    private const long LargeRounding = 2L << 20;

    private readonly IDeviceAllocator _backing;
    private readonly Action<int> _synchronizeDevice;
    private readonly object _lock = new();
    private readonly Dictionary<(int Device, nint Stream), SortedSet<(long Size, nint Pointer)>> _cached = [];
    private readonly Dictionary<nint, (int Device, long Size, int Epoch)> _inUse = [];

    // How many times each (device, stream handle) has been destroyed: a block allocated in an earlier epoch belongs to a
    // destroyed stream, and is not cached under a handle that a new stream may have been given.
    private readonly Dictionary<(int Device, nint Stream), int> _epochs = [];

    // Every instance, so that destroying a stream reaches all caches (weakly held: an instance may be dropped).
    private static readonly ConditionalWeakTable<CachingDeviceAllocator, object?> s_instances = [];
    private long _backingAllocations, _backingFrees, _cacheHits, _oomRetries;
    private long _reserved, _used, _peakReserved, _peakUsed;

    /// <summary>A cache over <c>cudaMalloc</c> (<see cref="CudaMallocAllocator"/>).</summary>
    public CachingDeviceAllocator()
        : this(CudaMallocAllocator.Instance)
    {
    }

    /// <summary>A cache over another allocator (a framework's raw allocations, for example).</summary>
    /// <param name="backing">Where blocks come from and go back to.</param>
    public CachingDeviceAllocator(IDeviceAllocator backing)
        : this(backing, CallLease.SynchronizeDevice)
    {
    }

    /// <summary>A cache over <paramref name="backing"/> that waits for a device with <paramref name="synchronizeDevice"/> (tests pass a fake).</summary>
    /// <param name="backing">Where blocks come from and go back to.</param>
    /// <param name="synchronizeDevice">Waits until the given device has finished all queued work.</param>
    internal CachingDeviceAllocator(IDeviceAllocator backing, Action<int> synchronizeDevice)
    {
        ArgumentNullException.ThrowIfNull(backing);
        ArgumentNullException.ThrowIfNull(synchronizeDevice);
        _backing = backing;
        _synchronizeDevice = synchronizeDevice;
        s_instances.Add(this, null);
    }

    /// <summary>The process-wide cache over <c>cudaMalloc</c>, the initial <see cref="DeviceAllocator.Default"/>.</summary>
    public static CachingDeviceAllocator Shared { get; } = new();

    /// <summary>What the allocator has done so far, all devices together.</summary>
    public DeviceAllocatorStatistics Statistics
    {
        get
        {
            lock (_lock)
            {
                return new DeviceAllocatorStatistics(_backingAllocations, _backingFrees, _cacheHits, _oomRetries,
                    _reserved, _used, _peakReserved, _peakUsed);
            }
        }
    }

    /// <inheritdoc/>
    public nint Allocate(int device, long bytes, nint stream) => Allocate(device, bytes, stream, out _);

    /// <summary>As <see cref="Allocate(int, long, nint)"/>, and says whether the block came from the cache.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="bytes">The size, at least 1.</param>
    /// <param name="stream">The stream the block is for.</param>
    /// <param name="fromCache">
    /// True for a cached block: work queued on <paramref name="stream"/> before its free may still use it, so it is
    /// safe on that stream only. False for a new block from the backing allocator.
    /// </param>
    /// <returns>The device address.</returns>
    internal nint Allocate(int device, long bytes, nint stream, out bool fromCache)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        long size = RoundUp(bytes);
        int epoch;
        lock (_lock)
        {
            fromCache = TryTakeCached(device, stream, size, out nint cached);
            if (fromCache) return cached;
            epoch = _epochs.GetValueOrDefault((device, stream));
        }

        nint pointer;
        try
        {
            pointer = _backing.Allocate(device, size, stream);
        }
        catch (CudaOutOfMemoryException)
        {
            lock (_lock) _oomRetries++;
            ReleaseCached(device);
            pointer = _backing.Allocate(device, size, stream);
        }

        lock (_lock)
        {
            _backingAllocations++;
            _reserved += size;
            _peakReserved = Math.Max(_peakReserved, _reserved);
            HandOut(pointer, device, size, epoch);
        }

        return pointer;
    }

    /// <inheritdoc/>
    public void Free(int device, nint pointer, long bytes, nint stream, bool usedOnOtherStreams)
    {
        long size;
        lock (_lock)
        {
            // A pointer this allocator did not hand out (or freed twice) is left alone: freeing it could hit a block
            // someone else now holds.
            if (!_inUse.Remove(pointer, out (int Device, long Size, int Epoch) block)) return;
            size = block.Size;
            _used -= size;
            // A block of a destroyed stream is given back as used elsewhere: nothing orders a new stream behind its work.
            if (block.Epoch != _epochs.GetValueOrDefault((device, stream))) usedOnOtherStreams = true;
            if (!usedOnOtherStreams)
            {
                if (!_cached.TryGetValue((device, stream), out SortedSet<(long, nint)>? set))
                {
                    set = [];
                    _cached[(device, stream)] = set;
                }

                set.Add((size, pointer));
                return;
            }
        }

        GiveBack(device, pointer, size, stream, usedOnOtherStreams: true);
    }

    /// <summary>
    /// Gives every cached block back to the backing allocator (<c>cudaFree</c>), after waiting for the devices that
    /// hold them; blocks in use stay. For handing the GPU to another library, or for measuring memory.
    /// </summary>
    /// <returns>The bytes given back.</returns>
    public long EmptyCache() => ReleaseCached(device: null);

    /// <summary>
    /// Tells every caching allocator that <paramref name="stream"/> is being destroyed (called by the release of an owned
    /// <see cref="CudaStream"/>, before <c>cudaStreamDestroy</c>, possibly on the finalizer thread); never throws.
    /// </summary>
    /// <param name="device">The stream's device.</param>
    /// <param name="stream">The <c>cudaStream_t</c> value.</param>
    internal static void StreamDestroyed(int device, nint stream)
    {
        foreach (KeyValuePair<CachingDeviceAllocator, object?> instance in s_instances) instance.Key.RetireStream(device, stream);
    }

    /// <summary>
    /// Forgets <paramref name="stream"/>: its cached blocks go back to the backing allocator as used on other streams
    /// (the backing waits for the device before reusing them; <c>cudaFree</c> does), and blocks allocated for it that
    /// are freed later are given back the same way. Never throws (the backing's <c>Free</c> must not).
    /// </summary>
    /// <param name="device">The stream's device.</param>
    /// <param name="stream">The <c>cudaStream_t</c> value being destroyed.</param>
    /// <returns>The bytes given back now.</returns>
    internal long RetireStream(int device, nint stream)
    {
        SortedSet<(long Size, nint Pointer)>? cached;
        lock (_lock)
        {
            _epochs[(device, stream)] = _epochs.GetValueOrDefault((device, stream)) + 1;
            _cached.Remove((device, stream), out cached);
        }

        long bytes = 0;
        foreach ((long size, nint pointer) in cached ?? [])
        {
            GiveBack(device, pointer, size, stream, usedOnOtherStreams: true);
            bytes += size;
        }

        return bytes;
    }

    /// <summary>Starts the peaks of <see cref="Statistics"/> again from the current values.</summary>
    public void ResetPeaks()
    {
        lock (_lock)
        {
            _peakReserved = _reserved;
            _peakUsed = _used;
        }
    }

    /// <summary>The block size a request of <paramref name="bytes"/> gets.</summary>
    /// <param name="bytes">The requested size, at least 1.</param>
    /// <returns>The rounded size.</returns>
    internal static long RoundUp(long bytes)
    {
        long unit = bytes <= SmallLimit ? SmallRounding : LargeRounding;
        return checked((bytes + unit - 1) / unit * unit);
    }

    /// <summary>The largest cached block that may serve a request rounded to <paramref name="size"/>.</summary>
    private static long LargestFit(long size) => size <= SmallLimit ? 2 * size : size + (size / 4);

    private bool TryTakeCached(int device, nint stream, long size, out nint pointer)
    {
        pointer = 0;
        if (!_cached.TryGetValue((device, stream), out SortedSet<(long Size, nint Pointer)>? set) || set.Count == 0) return false;
        SortedSet<(long Size, nint Pointer)> fits = set.GetViewBetween((size, nint.MinValue), (LargestFit(size), nint.MaxValue));
        if (fits.Count == 0) return false;
        (long blockSize, nint block) = fits.Min;
        set.Remove((blockSize, block));
        _cacheHits++;
        HandOut(block, device, blockSize, _epochs.GetValueOrDefault((device, stream)));
        pointer = block;
        return true;
    }

    private void HandOut(nint pointer, int device, long size, int epoch)
    {
        _inUse[pointer] = (device, size, epoch);
        _used += size;
        _peakUsed = Math.Max(_peakUsed, _used);
    }

    /// <summary>Synchronises and gives back the cached blocks of <paramref name="device"/> (every device when null).</summary>
    private long ReleaseCached(int? device)
    {
        var released = new List<(int Device, nint Stream, long Size, nint Pointer)>();
        lock (_lock)
        {
            foreach (((int Device, nint Stream) key, SortedSet<(long Size, nint Pointer)> set) in _cached)
            {
                if (device is int only && key.Device != only) continue;
                foreach ((long size, nint pointer) in set) released.Add((key.Device, key.Stream, size, pointer));
                set.Clear();
            }
        }

        if (released.Count == 0) return 0;
        // A cached block may still be in use by work queued on its stream before it was freed.
        foreach (int d in released.Select(b => b.Device).Distinct()) _synchronizeDevice(d);
        long bytes = 0;
        foreach ((int d, nint stream, long size, nint pointer) in released)
        {
            GiveBack(d, pointer, size, stream, usedOnOtherStreams: false);
            bytes += size;
        }

        return bytes;
    }

    private void GiveBack(int device, nint pointer, long size, nint stream, bool usedOnOtherStreams)
    {
        _backing.Free(device, pointer, size, stream, usedOnOtherStreams);
        lock (_lock)
        {
            _backingFrees++;
            _reserved -= size;
        }
    }
}
