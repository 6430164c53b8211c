using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// A CUDA stream: one made here (non-blocking, destroyed on <see cref="Dispose"/>), one wrapped from another
/// framework (never destroyed here), or the legacy default stream (<see cref="Default"/>).
/// </summary>
/// <remarks>
/// <para>
/// After <see cref="Dispose"/> (of an owned or a wrapped stream) <see cref="Handle"/> and every method that takes
/// the stream throw <see cref="ObjectDisposedException"/>, so no work is queued on a destroyed stream.
/// <see cref="Default"/> is shared and cannot be disposed. A call in flight on another thread keeps an owned stream
/// alive until it returns.
/// </para>
/// <para>
/// One convention for every call: a method given no stream (null, or an options object without one) runs on the
/// ambient stream of its device, <see cref="Current"/>, which is the legacy default stream unless
/// <c>using (stream.AsCurrent()) { ... }</c> set another for the calling thread and async flow. Tensors a call
/// allocates come from that stream's cache of the allocator (<see cref="IDeviceAllocator"/>).
/// </para>
/// </remarks>
public sealed unsafe class CudaStream : IDisposable
{
    private readonly nint _handle;
    private readonly NativeHandle? _owned;
    private readonly bool _isDefault;
    private volatile bool _disposed;

    private CudaStream(nint handle, NativeHandle? owned, int device, bool isDefault = false)
    {
        _handle = handle;
        _owned = owned;
        Device = device;
        _isDefault = isDefault;
    }

    /// <summary>
    /// The calling thread's ambient stream on its current device: the innermost <see cref="AsCurrent"/> scope's stream
    /// for that device in this thread and async flow, or <see cref="Default"/>. Calls given no stream run on it.
    /// </summary>
    public static CudaStream Current => AmbientStream.Find(-1) ?? Default;

    /// <summary>The device a stream was created on; -1 for <see cref="Default"/> and for a stream wrapped without one.</summary>
    public int Device { get; }

    /// <summary>The legacy default stream (handle zero); disposing it does nothing.</summary>
    public static CudaStream Default { get; } = new(0, null, -1, isDefault: true);

    /// <summary>The <c>cudaStream_t</c> value.</summary>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public nint Handle
    {
        get
        {
            ThrowIfDisposed();
            return _handle;
        }
    }

    /// <summary>Whether <see cref="Dispose"/> destroys the stream.</summary>
    public bool OwnsHandle => _owned is not null;

    /// <summary>Whether <see cref="Dispose"/> has been called (never true for <see cref="Default"/>).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Creates a non-blocking stream on the calling thread's current device.</summary>
    /// <returns>The new stream, which owns its handle.</returns>
    public static CudaStream Create()
    {
        int device = DeviceScope.Current();
        NativeStatus.Check(NativeMethods.gg_stream_create(out nint stream));
        return new CudaStream(stream, new NativeHandle(stream, NativeHandleKind.Stream, device), device);
    }

    /// <summary>Creates a non-blocking stream on <paramref name="device"/>.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The new stream, which owns its handle.</returns>
    public static CudaStream Create(int device)
    {
        using var scope = DeviceScope.Enter(device);
        return Create();
    }

    /// <summary>Wraps a <c>cudaStream_t</c> owned elsewhere (TorchSharp, ManagedCuda, ...); it is never destroyed here.</summary>
    /// <param name="handle">The stream handle; zero is the legacy default stream.</param>
    /// <returns>A non-owning stream.</returns>
    public static CudaStream Wrap(nint handle) => new(handle, null, -1);

    /// <summary>Wraps a <c>cudaStream_t</c> owned elsewhere that lives on <paramref name="device"/>; it is never destroyed here.</summary>
    /// <param name="handle">The stream handle; zero is the legacy default stream.</param>
    /// <param name="device">The device the stream was created on (what <see cref="AsCurrent"/> makes it ambient for).</param>
    /// <returns>A non-owning stream.</returns>
    public static CudaStream Wrap(nint handle, int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        return new(handle, null, device);
    }

    /// <summary>
    /// The ambient stream of <paramref name="device"/> in this thread and async flow (see <see cref="Current"/>).
    /// </summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The stream set by the innermost <see cref="AsCurrent"/> for that device, or <see cref="Default"/>.</returns>
    public static CudaStream GetCurrent(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        return AmbientStream.Find(device) ?? Default;
    }

    /// <summary>
    /// Makes this stream the ambient one (<see cref="Current"/>) of its device for the calling thread and the async
    /// flow that starts in it, until the returned scope is disposed: <c>using (stream.AsCurrent()) { ... }</c>. Every
    /// call in the scope that is given no stream runs on it, and allocates for it. Scopes nest; dispose them in reverse
    /// order, on the flow that made them.
    /// </summary>
    /// <returns>The scope that restores the previous ambient stream.</returns>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public CurrentStreamScope AsCurrent()
    {
        ThrowIfDisposed();
        int device = Device >= 0 ? Device : DeviceScope.Current();
        return new CurrentStreamScope(AmbientStream.Push(device, this));
    }

    /// <summary>
    /// Makes work queued on this stream from now on wait, on the GPU, for the work queued before
    /// <paramref name="cudaEvent"/> was last recorded (<c>cudaStreamWaitEvent</c>); the host does not wait.
    /// </summary>
    /// <param name="cudaEvent">A recorded event (of any device).</param>
    /// <exception cref="ObjectDisposedException">The stream or the event has been disposed.</exception>
    public void Wait(CudaEvent cudaEvent)
    {
        ArgumentNullException.ThrowIfNull(cudaEvent);
        ThrowIfDisposed();
        using var lease = new CallLease();
        nint s = lease.Stream(this);
        nint e = cudaEvent.Take(lease);
        CudaDriver.StreamWaitEvent(s, e, Device >= 0 ? Device : cudaEvent.Device);
    }

    /// <summary>
    /// Completes when all work queued on the stream so far has finished, without holding a thread while it runs: an event
    /// is recorded and polled (a short sleep between polls, growing to 1 ms). Reports asynchronous kernel errors as
    /// <see cref="Synchronize"/> does.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the GPU work goes on).</param>
    /// <returns>The task.</returns>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public Task SynchronizeAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return EventPolling.SynchronizeAsync(this, Device >= 0 ? Device : DeviceScope.Current(), cancellationToken);
    }

    /// <summary>Waits until all work queued on the stream has finished; reports asynchronous kernel errors.</summary>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public void Synchronize()
    {
        ThrowIfDisposed();
        NativeLibraryLoader.EnsureLoaded();
        using var lease = new CallLease();
        NativeStatus.Check(NativeMethods.gg_stream_synchronize((void*)lease.Stream(this)));
    }

    /// <summary>
    /// Destroys an owned stream (once calls in flight on other threads have returned) and makes a wrapped one
    /// unusable here without destroying it; does nothing for <see cref="Default"/>.
    /// </summary>
    public void Dispose()
    {
        if (_disposed || _isDefault) return;
        _disposed = true;
        _owned?.Dispose();
    }

    /// <summary>Describes the stream.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"CudaStream(0x{_handle:X}{(_isDefault ? ", legacy default" : OwnsHandle ? "" : ", wrapped")}{(_disposed ? ", disposed" : "")})";

    /// <summary>Takes the stream for one native call: holds an owned stream until the lease is disposed.</summary>
    /// <param name="lease">The call's lease.</param>
    /// <returns>The <c>cudaStream_t</c> value.</returns>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    internal nint Take(CallLease lease)
    {
        ThrowIfDisposed();
        if (_owned is not null) lease.Handle(_owned, this);
        // A Dispose that raced past the check above is caught here; the lease releases what it took.
        ThrowIfDisposed();
        return _handle;
    }

    internal void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(CudaStream), $"{this} has been disposed.");
    }
}
