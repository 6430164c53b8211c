using System.Runtime.InteropServices;

namespace GroupedGemm.Interop;

/// <summary>
/// Holds the owner of wrapped memory (a framework's tensor, buffer or allocator block) for a
/// <see cref="DeviceTensor"/> made by <c>DeviceTensor.Wrap(..., owner)</c>. It frees nothing; it is a
/// <see cref="SafeHandle"/> only so that the machinery that keeps owned memory alive keeps the owner alive too:
/// a <see cref="CallLease"/> takes a reference for the duration of a native call, and a graph capture
/// (<see cref="CaptureRecorder"/>) for the life of the graph. The reference to the owner is dropped when the
/// tensor is disposed and the last call or graph holding it is done (or by the finalizer, when all of them
/// became unreachable).
/// </summary>
internal sealed class KeepAliveHandle : SafeHandle
{
    private object? _owner;

    /// <summary>Holds <paramref name="owner"/>.</summary>
    /// <param name="owner">The object to keep reachable.</param>
    internal KeepAliveHandle(object owner)
        : base(0, ownsHandle: true)
    {
        _owner = owner;
        // Any value that is not invalid, so that the release below runs.
        SetHandle(1);
    }

    /// <summary>The owner, or null once the handle is released.</summary>
    internal object? Owner => _owner;

    /// <inheritdoc/>
    public override bool IsInvalid => false;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        _owner = null;
        return true;
    }
}
