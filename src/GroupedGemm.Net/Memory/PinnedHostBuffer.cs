using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// Page-locked (pinned) host memory of <typeparamref name="T"/> elements (<c>cudaMallocHost</c>). Copies between it and
/// a <see cref="DeviceTensor"/> (<see cref="DeviceTensor.CopyFrom{T}(PinnedHostBuffer{T}, long, CudaStream?)"/>,
/// <see cref="DeviceTensor.CopyTo{T}(PinnedHostBuffer{T}, long, CudaStream?)"/>) are queued on a stream and return at
/// once, so that transfers overlap with kernels and with host work; wait for the stream
/// (<see cref="CudaStream.Synchronize"/>, <see cref="CudaStream.SynchronizeAsync"/>) before reading what a copy wrote, or
/// before writing what a queued copy still reads.
/// </summary>
/// <typeparam name="T">The element type: the host type of a tensor's <see cref="DType"/>, or an unmanaged type of its size.</typeparam>
/// <remarks>
/// Page-locked memory is a scarce system resource: allocate buffers once and reuse them. Keep a buffer alive until the
/// copies queued on it have finished; a copy in flight on another thread holds it until the call returns.
/// </remarks>
public sealed unsafe class PinnedHostBuffer<T> : IDisposable
    where T : unmanaged
{
    private readonly NativeHandle _memory;

    /// <summary>Allocates a pinned buffer of <paramref name="length"/> uninitialised elements.</summary>
    /// <param name="length">The number of elements.</param>
    /// <exception cref="CudaOutOfMemoryException">The system cannot lock that much memory.</exception>
    public PinnedHostBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long bytes = checked(length * sizeof(T));
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_malloc_host(out nint pointer, (nuint)bytes));
        _memory = new NativeHandle(pointer, NativeHandleKind.HostMemory, device: -1);
        Length = length;
    }

    /// <summary>The number of elements.</summary>
    public long Length { get; }

    /// <summary>The size in bytes.</summary>
    public long ByteCount => Length * sizeof(T);

    /// <summary>The host address of the first element (zero for an empty buffer).</summary>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return _memory.DangerousGetHandle();
        }
    }

    /// <summary>The elements, for reading and writing on the host (at most <see cref="int.MaxValue"/> of them).</summary>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    /// <exception cref="InvalidOperationException">The buffer has more elements than a span can hold.</exception>
    public Span<T> Span
    {
        get
        {
            if (Length > int.MaxValue)
                throw new InvalidOperationException($"The buffer has {Length} elements, more than a span holds; use AsSpan(start, length).");
            return new Span<T>((void*)Pointer, (int)Length);
        }
    }

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _memory.IsClosed;

    /// <summary>A span over <paramref name="length"/> elements from <paramref name="start"/>.</summary>
    /// <param name="start">The first element.</param>
    /// <param name="length">The number of elements.</param>
    /// <returns>The span.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the buffer.</exception>
    public Span<T> AsSpan(long start, int length)
    {
        if (start < 0 || length < 0 || start > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Elements [{start}, {start}+{length}) are outside the buffer's {Length} elements.");
        }

        return new Span<T>((T*)Pointer + start, length);
    }

    /// <summary>Frees the memory (once calls in flight on other threads have returned).</summary>
    public void Dispose() => _memory.Dispose();

    /// <summary>Takes the buffer for one native call.</summary>
    /// <param name="lease">The call's lease.</param>
    /// <returns>The host address.</returns>
    internal nint Take(CallLease lease) => lease.Handle(_memory, this);
}
