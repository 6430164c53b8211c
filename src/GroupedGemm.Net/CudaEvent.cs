using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>A CUDA timing event.</summary>
public sealed unsafe class CudaEvent : IDisposable
{
    private readonly NativeHandle _handle;

    private CudaEvent(NativeHandle handle) => _handle = handle;

    /// <summary>The <c>cudaEvent_t</c> value.</summary>
    public nint Handle => _handle.DangerousGetHandle();

    /// <summary>Creates an event on the calling thread's current device.</summary>
    /// <returns>The new event.</returns>
    public static CudaEvent Create()
    {
        int device = DeviceScope.Current();
        NativeStatus.Check(NativeMethods.gg_event_create(out nint ev));
        return new CudaEvent(new NativeHandle(ev, NativeHandleKind.Event, device));
    }

    /// <summary>Records the event on <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream; null for the legacy default stream.</param>
    public void Record(CudaStream? stream = null)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        using var lease = new CallLease();
        NativeStatus.Check(NativeMethods.gg_event_record((void*)lease.Handle(_handle, this), (void*)lease.Stream(stream)));
    }

    /// <summary>Waits until the work before the recorded event has finished.</summary>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        using var lease = new CallLease();
        NativeStatus.Check(NativeMethods.gg_event_synchronize((void*)lease.Handle(_handle, this)));
    }

    /// <summary>Milliseconds between two recorded, completed events.</summary>
    /// <param name="start">The earlier event.</param>
    /// <param name="end">The later event.</param>
    /// <returns>The elapsed time (resolution about half a microsecond).</returns>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        ObjectDisposedException.ThrowIf(start._handle.IsClosed, start);
        ObjectDisposedException.ThrowIf(end._handle.IsClosed, end);
        using var lease = new CallLease();
        NativeStatus.Check(NativeMethods.gg_event_elapsed_ms((void*)lease.Handle(start._handle, start),
            (void*)lease.Handle(end._handle, end), out float ms));
        return ms;
    }

    /// <summary>Destroys the event.</summary>
    public void Dispose() => _handle.Dispose();
}
