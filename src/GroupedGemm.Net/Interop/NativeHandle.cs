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
}

/// <summary>
/// Owns one native resource and releases it exactly once, from Dispose or, if the owner was never disposed,
/// from the finalizer thread.
/// </summary>
internal sealed unsafe class NativeHandle : SafeHandle
{
    private readonly NativeHandleKind _kind;

    /// <summary>Takes ownership of <paramref name="value"/>.</summary>
    /// <param name="value">The native pointer (zero means nothing to release).</param>
    /// <param name="kind">How to release it.</param>
    internal NativeHandle(nint value, NativeHandleKind kind)
        : base(0, ownsHandle: true)
    {
        _kind = kind;
        SetHandle(value);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        void* p = (void*)handle;
        GgStatus status = _kind switch
        {
            NativeHandleKind.DeviceMemory => NativeMethods.gg_free(p),
            NativeHandleKind.Stream => NativeMethods.gg_stream_destroy(p),
            NativeHandleKind.Event => NativeMethods.gg_event_destroy(p),
            NativeHandleKind.GraphExec => NativeMethods.gg_graph_destroy(p),
            NativeHandleKind.GemmHandle => NativeMethods.gg_handle_destroy(handle),
            _ => GgStatus.InternalError,
        };
        return status == GgStatus.Success;
    }
}
