using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>A CUDA timing event.</summary>
public sealed unsafe class CudaEvent : IDisposable
{
    private readonly NativeHandle _handle;

    private CudaEvent(NativeHandle handle) => _handle = handle;

    /// <summary>The <c>cudaEvent_t</c> value.</summary>
    public nint Handle => _handle.DangerousGetHandle();

    /// <summary>The device the event was created on.</summary>
    public int Device => _handle.Device;

    /// <summary>Creates an event on the calling thread's current device.</summary>
    /// <returns>The new event.</returns>
    public static CudaEvent Create()
    {
        int device = DeviceScope.Current();
        NativeStatus.Check(NativeMethods.gg_event_create(out nint ev));
        return new CudaEvent(new NativeHandle(ev, NativeHandleKind.Event, device));
    }

    /// <summary>Creates an event on <paramref name="device"/>.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The new event.</returns>
    public static CudaEvent Create(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        using var scope = DeviceScope.Enter(device);
        return Create();
    }

    /// <summary>Whether the work before the last <see cref="Record"/> has finished; does not wait.</summary>
    /// <returns>True when it has (or the event was never recorded).</returns>
    public bool IsCompleted()
    {
        using var lease = new CallLease();
        return CudaDriver.EventQuery(Take(lease), Device);
    }

    /// <summary>
    /// Completes when the work before the last <see cref="Record"/> has finished, without holding a thread while it
    /// runs: the event is polled, with a sleep between polls that grows to 1 ms. Then reports asynchronous errors as
    /// <see cref="Synchronize"/> does (which returns at once by then).
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the GPU work goes on).</param>
    /// <returns>The task.</returns>
    public Task WaitAsync(CancellationToken cancellationToken = default) => EventPolling.WaitAsync(this, cancellationToken);

    /// <summary>Records the event on <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream; null for the ambient stream of the event's device (<see cref="CudaStream.Current"/>).</param>
    public void Record(CudaStream? stream = null)
    {
        using var lease = new CallLease();
        NativeStatus.Check(NativeMethods.gg_event_record((void*)Take(lease), (void*)lease.Stream(stream, Device)));
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

    /// <summary>Takes the event for one native call.</summary>
    /// <param name="lease">The call's lease.</param>
    /// <returns>The <c>cudaEvent_t</c> value.</returns>
    internal nint Take(CallLease lease)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return lease.Handle(_handle, this);
    }

    /// <summary>Destroys the event.</summary>
    public void Dispose() => _handle.Dispose();
}
