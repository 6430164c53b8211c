using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// A CUDA stream: one made here (non-blocking, destroyed on <see cref="Dispose"/>), one wrapped from another
/// framework (never destroyed here), or the legacy default stream (<see cref="Default"/>).
/// </summary>
/// <remarks>
/// After <see cref="Dispose"/> (of an owned or a wrapped stream) <see cref="Handle"/> and every method that takes
/// the stream throw <see cref="ObjectDisposedException"/>, so no work is queued on a destroyed stream.
/// <see cref="Default"/> is shared and cannot be disposed. A call in flight on another thread keeps an owned stream
/// alive until it returns.
/// </remarks>
public sealed unsafe class CudaStream : IDisposable
{
    private readonly nint _handle;
    private readonly NativeHandle? _owned;
    private readonly bool _isDefault;
    private volatile bool _disposed;

    private CudaStream(nint handle, NativeHandle? owned, bool isDefault = false)
    {
        _handle = handle;
        _owned = owned;
        _isDefault = isDefault;
    }

    /// <summary>The legacy default stream (handle zero); disposing it does nothing.</summary>
    public static CudaStream Default { get; } = new(0, null, isDefault: true);

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
        return new CudaStream(stream, new NativeHandle(stream, NativeHandleKind.Stream, device));
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
    public static CudaStream Wrap(nint handle) => new(handle, null);

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

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(CudaStream), $"{this} has been disposed.");
    }
}
