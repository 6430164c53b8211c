using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// A CUDA stream: one made here (non-blocking, destroyed on <see cref="Dispose"/>), one wrapped from another
/// framework (never destroyed here), or the legacy default stream (<see cref="Default"/>).
/// </summary>
public sealed unsafe class CudaStream : IDisposable
{
    private readonly NativeHandle? _owned;
    private bool _disposed;

    private CudaStream(nint handle, NativeHandle? owned)
    {
        Handle = handle;
        _owned = owned;
    }

    /// <summary>The legacy default stream (handle zero); disposing it does nothing.</summary>
    public static CudaStream Default { get; } = new(0, null);

    /// <summary>The <c>cudaStream_t</c> value.</summary>
    public nint Handle { get; }

    /// <summary>Whether <see cref="Dispose"/> destroys the stream.</summary>
    public bool OwnsHandle => _owned is not null;

    /// <summary>Creates a non-blocking stream on the calling thread's current device.</summary>
    /// <returns>The new stream, which owns its handle.</returns>
    public static CudaStream Create()
    {
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_stream_create(out nint stream));
        return new CudaStream(stream, new NativeHandle(stream, NativeHandleKind.Stream));
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
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_stream_synchronize((void*)Handle));
    }

    /// <summary>Destroys an owned stream; does nothing for wrapped streams and <see cref="Default"/>.</summary>
    public void Dispose()
    {
        if (_disposed || _owned is null) return;
        _disposed = true;
        _owned.Dispose();
    }
}
