using System.Runtime.InteropServices;

namespace GroupedGemm.Interop;

/// <summary>What a <see cref="NativeHandle"/> holds, and so how it is released.</summary>
internal enum NativeHandleKind
{
    /// <summary>Device memory from gg_malloc.</summary>
    DeviceMemory,

    /// <summary>A stream from gg_stream_create.</summary>
    Stream,

    /// <summary>An event from gg_event_create.</summary>
    Event,

    /// <summary>An executable graph from gg_stream_end_capture.</summary>
    GraphExec,

    /// <summary>A gg_handle_t from gg_handle_create.</summary>
    GemmHandle,

    /// <summary>Page-locked host memory from gg_malloc_host.</summary>
    HostMemory,

    /// <summary>A block from an <see cref="IDeviceAllocator"/>, handed back to it.</summary>
    AllocatorBlock,

    /// <summary>Nothing native to release: stands for device memory in tests that run without a device.</summary>
    None,
}

/// <summary>
/// Owns one native resource and releases it exactly once, from Dispose or, if the owner was never disposed,
/// from the finalizer thread. Calls that pass the raw value to native code take a reference first
/// (<see cref="CallLease"/>), so the release waits until they return.
/// </summary>
internal sealed unsafe class NativeHandle : SafeHandle
{
    private readonly NativeHandleKind _kind;
    private readonly int _device;
    private readonly IDeviceAllocator? _allocator;
    private readonly long _bytes;
    private readonly nint _stream;
    private volatile bool _released;
    private volatile bool _usedOnOtherStreams;
    private int _firstUsePending;
    private IDisposable? _releaseAfter;

    /// <summary>Takes ownership of <paramref name="value"/>.</summary>
    /// <param name="value">The native pointer (zero means nothing to release).</param>
    /// <param name="kind">How to release it.</param>
    /// <param name="device">
    /// The device the resource belongs to, made current while it is released (the finalizer thread's current
    /// device is whatever it last was, usually 0); -1 when the native release picks the device itself.
    /// </param>
    internal NativeHandle(nint value, NativeHandleKind kind, int device)
        : base(0, ownsHandle: true)
    {
        _kind = kind;
        _device = device;
        SetHandle(value);
    }

    /// <summary>
    /// Takes ownership of a block from <paramref name="allocator"/>, handed back to it on release with the stream it was
    /// allocated for and whether calls used it on other streams (<see cref="NoteStream"/>). The allocator is told the
    /// device, so no device is made current here.
    /// </summary>
    /// <param name="value">The block's address (not zero).</param>
    /// <param name="allocator">The allocator that made it.</param>
    /// <param name="device">The device the block is on.</param>
    /// <param name="bytes">The size asked of the allocator.</param>
    /// <param name="stream">The <c>cudaStream_t</c> it was allocated for.</param>
    /// <param name="mayBeInUse">
    /// Whether work queued before the allocation may still use the block (one reused from a cache, safe only on
    /// <paramref name="stream"/>); its first use on another stream then waits for the device (<see cref="TakeFirstUse"/>).
    /// </param>
    internal NativeHandle(nint value, IDeviceAllocator allocator, int device, long bytes, nint stream, bool mayBeInUse)
        : this(value, NativeHandleKind.AllocatorBlock, device: -1)
    {
        _allocator = allocator;
        _bytes = bytes;
        _stream = stream;
        _firstUsePending = mayBeInUse ? 1 : 0;
        BlockDevice = device;
    }

    /// <summary>The device of an allocator block (-1 for other kinds).</summary>
    internal int BlockDevice { get; } = -1;

    /// <summary>The stream an allocator block was allocated for (zero for other kinds, or the legacy default stream).</summary>
    internal nint BlockStream => _stream;

    /// <summary>Whether a call used this allocator block on a stream other than its own.</summary>
    internal bool UsedOnOtherStreams => _usedOnOtherStreams;

    /// <summary>Whether the block may still be in use by work queued before it was handed out, and no call has used it yet.</summary>
    internal bool FirstUsePending => Volatile.Read(ref _firstUsePending) != 0;

    /// <summary>Claims the block's first use: true for exactly one caller while <see cref="FirstUsePending"/>.</summary>
    /// <returns>Whether this caller must order the first use after the block's earlier work.</returns>
    internal bool TakeFirstUse() => Interlocked.Exchange(ref _firstUsePending, 0) != 0;

    /// <summary>Notes that a call used the resource on <paramref name="stream"/> (matters for allocator blocks only).</summary>
    /// <param name="stream">The call's <c>cudaStream_t</c>.</param>
    internal void NoteStream(nint stream)
    {
        if (_allocator is not null && stream != _stream) _usedOnOtherStreams = true;
    }

    /// <summary>
    /// Disposes <paramref name="dependent"/> right after this resource is released (by Dispose with no call in flight,
    /// by the last lease, or by the finalizer): a graph's captured references outlive a launch in flight on another thread.
    /// </summary>
    /// <param name="dependent">What must stay alive as long as this resource (its Dispose must not throw).</param>
    internal void ReleaseAfter(IDisposable dependent) => _releaseAfter = dependent;

    /// <summary>The device the resource is released on; -1 when the native release chooses it (gg_handle_destroy).</summary>
    internal int Device => _device;

    /// <summary>Whether the native resource has been released (Dispose with no call in flight, the last lease, or the finalizer).</summary>
    internal bool IsReleased => _released;

    /// <summary>
    /// The device that was current while the resource was released (-1 before, or if it could not be read); for an
    /// allocator block, the device it was handed back for (the allocator makes it current if it needs to).
    /// </summary>
    internal int ReleasedOnDevice { get; private set; } = -1;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // Best effort, never throwing: a finalizer must not fail, and a failed switch still leaves the free worth trying.
        int previous = -1;
        if (_device >= 0 && NativeMethods.gg_get_device(out int current) == GgStatus.Success && current != _device &&
            NativeMethods.gg_set_device(_device) == GgStatus.Success)
        {
            previous = current;
        }

        try
        {
            if (_device >= 0 && NativeMethods.gg_get_device(out int during) == GgStatus.Success) ReleasedOnDevice = during;
            if (_allocator is not null) ReleasedOnDevice = BlockDevice;
            return Release();
        }
        finally
        {
            _released = true;
            if (previous >= 0) _ = NativeMethods.gg_set_device(previous);
            _releaseAfter?.Dispose();
        }
    }

    private bool Release()
    {
        void* p = (void*)handle;
        GgStatus status = _kind switch
        {
            NativeHandleKind.DeviceMemory => NativeMethods.gg_free(p),
            NativeHandleKind.Stream => DestroyStream(p),
            NativeHandleKind.Event => NativeMethods.gg_event_destroy(p),
            NativeHandleKind.GraphExec => NativeMethods.gg_graph_destroy(p),
            NativeHandleKind.GemmHandle => NativeMethods.gg_handle_destroy(handle),
            NativeHandleKind.HostMemory => NativeMethods.gg_free_host(p),
            NativeHandleKind.AllocatorBlock => FreeBlock(),
            NativeHandleKind.None => GgStatus.Success,
            _ => GgStatus.InternalError,
        };
        return status == GgStatus.Success;
    }

    /// <summary>Destroys a stream after the caching allocators have stopped caching blocks for its handle (CUDA may reuse it).</summary>
    private GgStatus DestroyStream(void* stream)
    {
        try
        {
            CachingDeviceAllocator.StreamDestroyed(_device, handle);
        }
#pragma warning disable CA1031 // A release must not throw (it may run on the finalizer thread); the stream is destroyed regardless.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return NativeMethods.gg_stream_destroy(stream);
    }

    private GgStatus FreeBlock()
    {
        try
        {
            _allocator!.Free(BlockDevice, handle, _bytes, _stream, _usedOnOtherStreams);
            return GgStatus.Success;
        }
#pragma warning disable CA1031 // A release must not throw (it may run on the finalizer thread); the contract says Free does not.
        catch (Exception)
#pragma warning restore CA1031
        {
            return GgStatus.InternalError;
        }
    }
}
