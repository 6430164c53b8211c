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
    private volatile bool _released;

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

    /// <summary>The device the resource is released on; -1 when the native release chooses it (gg_handle_destroy).</summary>
    internal int Device => _device;

    /// <summary>Whether the native resource has been released (Dispose with no call in flight, the last lease, or the finalizer).</summary>
    internal bool IsReleased => _released;

    /// <summary>The device that was current while the resource was released (-1 before, or if it could not be read).</summary>
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
            return Release();
        }
        finally
        {
            _released = true;
            if (previous >= 0) _ = NativeMethods.gg_set_device(previous);
        }
    }

    private bool Release()
    {
        void* p = (void*)handle;
        GgStatus status = _kind switch
        {
            NativeHandleKind.DeviceMemory => NativeMethods.gg_free(p),
            NativeHandleKind.Stream => NativeMethods.gg_stream_destroy(p),
            NativeHandleKind.Event => NativeMethods.gg_event_destroy(p),
            NativeHandleKind.GraphExec => NativeMethods.gg_graph_destroy(p),
            NativeHandleKind.GemmHandle => NativeMethods.gg_handle_destroy(handle),
            NativeHandleKind.None => GgStatus.Success,
            _ => GgStatus.InternalError,
        };
        return status == GgStatus.Success;
    }
}
