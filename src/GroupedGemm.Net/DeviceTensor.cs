using System.Collections.ObjectModel;
using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// Row-major, contiguous device memory with a shape and an element type. A tensor either owns its memory
/// (from <see cref="Allocate(DType, long[])"/> or <see cref="FromSpan{T}(ReadOnlySpan{T}, long[])"/>; freed by
/// <see cref="Dispose"/> or, if forgotten, by the finalizer) or wraps memory someone else owns
/// (<see cref="Wrap(nint, DType, long[], int?, object?)"/>, views from <see cref="Reshape"/> and <see cref="Slice"/>;
/// never freed here).
/// </summary>
/// <remarks>
/// <para>
/// Every call that passes owned memory to native code holds it until the call returns: a <see cref="Dispose"/> on
/// another thread, or the finalizer of a temporary such as <c>DeviceTensor.FromArray(x).Reshape(m, k)</c>, frees
/// it only afterwards. A <see cref="CudaGraph"/> holds the memory its captured calls use until the graph is
/// disposed. Wrapped memory is not held, but the owner object given to <c>Wrap</c>, if any, is kept reachable the
/// same way (by the tensor and its views until disposed, by each call, by each graph). Work queued on a stream is
/// not a call in flight, but disposing memory it uses is safe: owned memory goes back to its
/// <see cref="IDeviceAllocator"/>, which reuses it only behind that work (on the stream it was allocated for; memory
/// that calls also used on other streams goes to <c>cudaFree</c>, which waits for the device).
/// </para>
/// <para>
/// Sizes are 64-bit throughout: a tensor may hold more than 2^31 elements. Host copies take spans, so one copy
/// moves at most <see cref="int.MaxValue"/> elements; use the element offset to copy larger tensors in parts.
/// Copies without a stream run on the ambient stream (<see cref="CudaStream.Current"/>: the legacy default stream unless
/// <see cref="CudaStream.AsCurrent"/> set another), and the legacy default stream does not wait for work on streams made by
/// <see cref="CudaStream.Create()"/>: synchronise such a stream (or pass it) before reading results.
/// </para>
/// </remarks>
public sealed unsafe partial class DeviceTensor : IDisposable
{
    /// <summary>Largest single host transfer; bigger copies go in pieces of this size.</summary>
    internal const long CopyChunkBytes = 1L << 30;

    private readonly NativeHandle? _memory;
    private readonly KeepAliveHandle? _owner;
    private readonly DeviceTensor? _base;
    /// <summary>
    /// Tests only: runs before each allocation of device memory, on this thread (to stop a call at its first native
    /// call, even one that allocates from a context the test did not make, such as <see cref="Ops"/>' pooled ones).
    /// </summary>
    [ThreadStatic]
    internal static Action? t_beforeAllocation;

    private readonly long[] _shape;
    private volatile bool _disposed;
    private TensorScope? _scope;

    private DeviceTensor(
        nint pointer, DType dtype, long[] shape, int device, NativeHandle? memory, DeviceTensor? baseTensor, KeepAliveHandle? owner = null)
    {
        Pointer = pointer;
        DType = dtype;
        _shape = shape;
        Shape = new ReadOnlyCollection<long>(shape);
        Device = device;
        ElementCount = TensorShape.ElementCount(shape, nameof(shape));
        ByteCount = TensorShape.ByteCount(ElementCount, dtype, shape, nameof(shape));
        _memory = memory;
        _base = baseTensor;
        _owner = owner;
    }

    /// <summary>The extents, outermost first.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The number of elements (the product of the extents).</summary>
    public long ElementCount { get; }

    /// <summary>The size of the data in bytes.</summary>
    public long ByteCount { get; }

    /// <summary>The device address of the first element (zero for an empty owned tensor).</summary>
    public nint Pointer { get; }

    /// <summary>The CUDA device ordinal the memory lives on.</summary>
    public int Device { get; }

    /// <summary>Whether <see cref="Dispose"/> frees the memory (false for wrapped memory and views).</summary>
    public bool OwnsMemory => _memory is not null;

    /// <summary>Whether this tensor, or the tensor whose memory it views, has been disposed.</summary>
    public bool IsDisposed => _disposed || (_base?.IsDisposed ?? false);

    /// <summary>Allocates an uninitialised tensor on the calling thread's current device.</summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents; none for a scalar.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor Allocate(DType dtype, params long[] shape) =>
        Allocate(DeviceScope.Current(), dtype, shape);

    /// <summary>Allocates an uninitialised tensor on <paramref name="device"/>.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents; none for a scalar.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor Allocate(int device, DType dtype, params long[] shape) => Allocate(device, dtype, shape, null, null);

    /// <summary>
    /// Allocates an uninitialised tensor from <paramref name="allocator"/> (or <see cref="DeviceAllocator.Default"/>) for
    /// work on <paramref name="stream"/> (or the device's ambient stream, <see cref="CudaStream.Current"/>); adds it to the
    /// innermost <see cref="TensorScope"/>.
    /// </summary>
    internal static DeviceTensor Allocate(int device, DType dtype, long[] shape, CudaStream? stream, IDeviceAllocator? allocator)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        long[] copy = (long[])shape.Clone();
        long bytes = TensorShape.ByteCount(TensorShape.ElementCount(copy, nameof(shape)), dtype, copy, nameof(shape));
        NativeHandle memory;
        if (bytes == 0)
        {
            // Nothing to allocate: an owning tensor at address zero, as cudaMalloc gives for zero bytes.
            memory = new NativeHandle(0, NativeHandleKind.DeviceMemory, device);
        }
        else
        {
            t_beforeAllocation?.Invoke();
            allocator ??= DeviceAllocator.Default;
            nint s = (stream ?? AmbientStream.Find(device))?.Handle ?? 0;
            // Whether work queued before may still use the block: a cache hit may be (it is safe on s only); cudaMalloc
            // memory is not (cudaFree waited for the device); another allocator's block is assumed to be.
            bool mayBeInUse;
            nint p;
            switch (allocator)
            {
                case CachingDeviceAllocator caching:
                    p = caching.Allocate(device, bytes, s, out mayBeInUse);
                    break;
                default:
                    p = allocator.Allocate(device, bytes, s);
                    mayBeInUse = allocator is not CudaMallocAllocator;
                    break;
            }

            memory = new NativeHandle(p, allocator, device, bytes, s, mayBeInUse);
        }

        var tensor = new DeviceTensor(memory.DangerousGetHandle(), dtype, copy, device, memory, null);
        TensorScope.Register(tensor);
        return tensor;
    }

    /// <summary>
    /// Wraps device memory owned elsewhere (TorchSharp, ManagedCuda, ILGPU, a raw <c>CUdeviceptr</c>) without copying.
    /// <see cref="Dispose"/> does not free it; the memory must stay allocated while the tensor is used.
    /// </summary>
    /// <param name="pointer">Device address of the first element.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents (row-major, contiguous).</param>
    /// <param name="device">The device the memory is on; when null the library asks CUDA, which also rejects host memory.</param>
    /// <param name="owner">
    /// An object that keeps the memory allocated (a framework's tensor or buffer), or null. It stays reachable while
    /// this tensor or a view of it is not disposed, while a call using the tensor runs, and while a
    /// <see cref="CudaGraph"/> that captured such a call lives, so its finalizer cannot free the memory under them.
    /// It is never disposed here (disposing it yourself still frees the memory).
    /// </param>
    /// <returns>A non-owning tensor.</returns>
    /// <exception cref="ArgumentException">
    /// The pointer is zero for a non-empty shape, is not a multiple of the element size (kernels load whole
    /// elements; a misaligned load is a sticky fault that ends the process's CUDA context), is host memory, or the
    /// tensor's bytes would end past 2^63 (no device address is that high); or the shape has a negative extent or
    /// more than int64 bytes.
    /// </exception>
    public static DeviceTensor Wrap(nint pointer, DType dtype, long[] shape, int? device = null, object? owner = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long[] copy = (long[])shape.Clone();
        long count = TensorShape.ElementCount(copy, nameof(shape));
        return WrapChecked(pointer, dtype, copy, count, device, owner);
    }

    /// <summary>
    /// Wraps device memory owned elsewhere, described by a shape and strides as frameworks report them (PyTorch's and
    /// TorchSharp's <c>stride()</c>), without copying. The strides must describe row-major, contiguous memory: every
    /// kernel here reads it that way, so any other layout is refused rather than read wrongly.
    /// </summary>
    /// <param name="pointer">Device address of the first element (the framework's data pointer, storage offset included).</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <param name="strides">
    /// The distance in elements (not bytes) between neighbours along each dimension, one per extent. Contiguous means
    /// the last stride is 1 and each other is the product of the extents after it; as in PyTorch, the stride of an
    /// extent of 1 does not matter, and a tensor with no elements is contiguous whatever its strides.
    /// </param>
    /// <param name="device">The device the memory is on; when null the library asks CUDA, which also rejects host memory.</param>
    /// <param name="owner">
    /// An object that keeps the memory allocated, or null; kept reachable as by
    /// <see cref="Wrap(nint, DType, long[], int?, object?)"/>.
    /// </param>
    /// <returns>A non-owning tensor.</returns>
    /// <exception cref="ArgumentException">
    /// The strides are not one per extent, or not contiguous (the message names them and the strides expected); or
    /// the pointer is refused as by <see cref="Wrap(nint, DType, long[], int?, object?)"/>.
    /// </exception>
    public static DeviceTensor Wrap(nint pointer, DType dtype, long[] shape, long[] strides, int? device = null, object? owner = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(strides);
        long[] copy = (long[])shape.Clone();
        long count = TensorShape.ElementCount(copy, nameof(shape));
        TensorStrides.RequireContiguous(copy, count, strides, nameof(strides));
        return WrapChecked(pointer, dtype, copy, count, device, owner);
    }

    /// <summary>Copies host values to a new tensor on the current device; the element type follows <typeparamref name="T"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="values">The values, row-major.</param>
    /// <param name="shape">The extents; none means one dimension of <c>values.Length</c>.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor FromSpan<T>(ReadOnlySpan<T> values, params long[] shape)
        where T : unmanaged =>
        FromSpan(DeviceScope.Current(), values, shape);

    /// <summary>Copies host values to a new tensor on <paramref name="device"/>; the element type follows <typeparamref name="T"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="values">The values, row-major.</param>
    /// <param name="shape">The extents; none means one dimension of <c>values.Length</c>.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor FromSpan<T>(int device, ReadOnlySpan<T> values, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(shape);
        DType dtype = DTypeExtensions.Of<T>();
        long[] actualShape = shape.Length == 0 ? [values.Length] : shape;
        long count = TensorShape.ElementCount(actualShape, nameof(shape));
        if (count != values.Length)
        {
            throw new ArgumentException(
                $"Shape {TensorShape.Format(actualShape)} has {count} elements but {values.Length} values were given.",
                nameof(values));
        }

        using var outputs = new PendingOutputs();
        DeviceTensor tensor = outputs.Allocate(device, dtype, actualShape);
        tensor.CopyFrom(values);
        return outputs.HandOver(tensor);
    }

    /// <summary>Copies a host array to a new tensor on the current device; the element type follows <typeparamref name="T"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="values">The values, row-major.</param>
    /// <param name="shape">The extents; none means one dimension of <c>values.Length</c>.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor FromArray<T>(T[] values, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromSpan<T>(values, shape);
    }

    /// <summary>Copies host values into the tensor, starting at element <paramref name="elementOffset"/>.</summary>
    /// <typeparam name="T">
    /// The host type of the tensor's <see cref="DType"/> (<see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>,
    /// <see cref="int"/>, <see cref="long"/>), or another unmanaged type of the element's size for the raw bits
    /// (<see cref="ushort"/> for bf16 or fp16 bits, <see cref="uint"/> for float bits).
    /// </typeparam>
    /// <param name="source">The values.</param>
    /// <param name="elementOffset">First element of the tensor to write.</param>
    /// <param name="stream">Stream to order the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is the host type of another element type (a
    /// <see cref="Half"/> span for a <see cref="DType.BFloat16"/> tensor), or its size differs from the element's.</exception>
    public void CopyFrom<T>(ReadOnlySpan<T> source, long elementOffset = 0, CudaStream? stream = null)
        where T : unmanaged
    {
        CheckHostRange<T>(source.Length, elementOffset, nameof(source));
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, Device);
        byte* device = (byte*)lease.Pointer(this);
        fixed (T* host = source)
        {
            CopyChunked(device + (elementOffset * DType.ElementSize()), (byte*)host, (long)source.Length * sizeof(T), s);
        }
    }

    /// <summary>Copies tensor elements, starting at <paramref name="elementOffset"/>, into host memory; returns when done.</summary>
    /// <typeparam name="T">
    /// The host type of the tensor's <see cref="DType"/>, or another unmanaged type of the element's size for the raw
    /// bits, as for <see cref="CopyFrom{T}(ReadOnlySpan{T}, long, CudaStream?)"/>.
    /// </typeparam>
    /// <param name="destination">Where to write; its length is the number of elements copied.</param>
    /// <param name="elementOffset">First element of the tensor to read.</param>
    /// <param name="stream">Stream to order the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is the host type of another element type, or its
    /// size differs from the element's.</exception>
    public void CopyTo<T>(Span<T> destination, long elementOffset = 0, CudaStream? stream = null)
        where T : unmanaged
    {
        CheckHostRange<T>(destination.Length, elementOffset, nameof(destination));
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, Device);
        byte* device = (byte*)lease.Pointer(this);
        fixed (T* host = destination)
        {
            CopyChunked((byte*)host, device + (elementOffset * DType.ElementSize()), (long)destination.Length * sizeof(T), s);
        }
    }

    /// <summary>
    /// Queues a copy of the whole pinned buffer into the tensor, from element <paramref name="elementOffset"/> on, and
    /// returns without waiting: the buffer must not change until the stream has passed the copy.
    /// </summary>
    /// <typeparam name="T">The host type of the tensor's <see cref="DType"/>, or an unmanaged type of the element's size.</typeparam>
    /// <param name="source">The pinned buffer; all its elements are copied.</param>
    /// <param name="elementOffset">First element of the tensor to write.</param>
    /// <param name="stream">Stream to queue the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> does not fit the element type.</exception>
    public void CopyFrom<T>(PinnedHostBuffer<T> source, long elementOffset = 0, CudaStream? stream = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckElementRange<T>(source.Length, elementOffset, nameof(source));
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, Device);
        byte* device = (byte*)lease.Pointer(this);
        CopyChunked(device + (elementOffset * DType.ElementSize()), (byte*)source.Take(lease), source.ByteCount, s);
    }

    /// <summary>
    /// Queues a copy of tensor elements, from <paramref name="elementOffset"/> on, into the whole pinned buffer and
    /// returns without waiting: synchronise the stream (or await <see cref="CudaStream.SynchronizeAsync"/>) before
    /// reading the buffer.
    /// </summary>
    /// <typeparam name="T">The host type of the tensor's <see cref="DType"/>, or an unmanaged type of the element's size.</typeparam>
    /// <param name="destination">The pinned buffer; its length is the number of elements copied.</param>
    /// <param name="elementOffset">First element of the tensor to read.</param>
    /// <param name="stream">Stream to queue the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> does not fit the element type.</exception>
    public void CopyTo<T>(PinnedHostBuffer<T> destination, long elementOffset = 0, CudaStream? stream = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckElementRange<T>(destination.Length, elementOffset, nameof(destination));
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, Device);
        byte* device = (byte*)lease.Pointer(this);
        CopyChunked((byte*)destination.Take(lease), device + (elementOffset * DType.ElementSize()), destination.ByteCount, s);
    }

    /// <summary>Copies all elements of another tensor of the same element type and count into this one.</summary>
    /// <param name="source">The tensor to copy from (any shape with the same element count).</param>
    /// <param name="stream">Stream to order the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    public void CopyFrom(DeviceTensor source, CudaStream? stream = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfDisposed();
        source.ThrowIfDisposed();
        if (source.DType != DType || source.ElementCount != ElementCount)
        {
            throw new ArgumentException(
                $"source is {source.DType} {TensorShape.Format(source.Shape)} but this tensor is " +
                $"{DType} {TensorShape.Format(Shape)}; the element type and count must match.", nameof(source));
        }

        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, Device);
        void* destination = (void*)lease.Pointer(this);
        void* from = (void*)lease.Pointer(source);
        if (ByteCount == 0) return;
        NativeStatus.Check(NativeMethods.gg_memcpy(destination, from, (nuint)ByteCount, s));
    }

    /// <summary>Copies the whole tensor to a new host array; returns when done.</summary>
    /// <typeparam name="T">
    /// The host type of the tensor's <see cref="DType"/>, or another unmanaged type of the element's size for the raw
    /// bits, as for <see cref="CopyFrom{T}(ReadOnlySpan{T}, long, CudaStream?)"/>.
    /// </typeparam>
    /// <returns>The elements, row-major.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is the host type of another element type (a
    /// <see cref="float"/> array for a <see cref="DType.BFloat16"/> tensor), or its size differs from the element's.</exception>
    /// <exception cref="InvalidOperationException">The tensor has more elements than an array can hold.</exception>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        ThrowIfDisposed();
        HostElementType.Check<T>(DType, nameof(T));
        if (ElementCount > Array.MaxLength)
        {
            throw new InvalidOperationException(
                $"The tensor has {ElementCount} elements, more than an array can hold; use CopyTo with an element offset.");
        }

        var result = new T[ElementCount];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Sets every byte of the tensor to <paramref name="value"/>.</summary>
    /// <param name="value">The byte value.</param>
    /// <param name="stream">Stream to order the fill on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    public void Fill(byte value, CudaStream? stream = null)
    {
        ThrowIfDisposed();
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, Device);
        void* p = (void*)lease.Pointer(this);
        if (ByteCount == 0) return;
        NativeStatus.Check(NativeMethods.gg_memset(p, value, (nuint)ByteCount, s));
    }

    /// <summary>Sets every element to zero.</summary>
    /// <param name="stream">Stream to order the fill on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    public void Zero(CudaStream? stream = null) => Fill(0, stream);

    /// <summary>A view of the same memory with another shape of the same element count.</summary>
    /// <param name="shape">The new extents; at most one may be -1, meaning "whatever makes the count match".</param>
    /// <returns>A non-owning view, valid while this tensor is.</returns>
    public DeviceTensor Reshape(params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ThrowIfDisposed();
        long[] resolved = (long[])shape.Clone();
        int inferred = Array.IndexOf(resolved, -1L);
        if (inferred >= 0)
        {
            resolved[inferred] = 1;
            if (Array.IndexOf(resolved, -1L) >= 0)
                throw new ArgumentException($"At most one extent of {TensorShape.Format(shape)} may be -1.", nameof(shape));
            long known = TensorShape.ElementCount(resolved, nameof(shape));
            if (known == 0 || ElementCount % known != 0)
            {
                throw new ArgumentException(
                    $"Cannot reshape {TensorShape.Format(Shape)} ({ElementCount} elements) to {TensorShape.Format(shape)}.",
                    nameof(shape));
            }

            resolved[inferred] = ElementCount / known;
        }

        long count = TensorShape.ElementCount(resolved, nameof(shape));
        if (count != ElementCount)
        {
            throw new ArgumentException(
                $"Cannot reshape {TensorShape.Format(Shape)} ({ElementCount} elements) to {TensorShape.Format(shape)} ({count} elements).",
                nameof(shape));
        }

        return new DeviceTensor(Pointer, DType, resolved, Device, null, Root);
    }

    /// <summary>A view of <paramref name="length"/> consecutive entries of the outermost dimension.</summary>
    /// <param name="start">First index along dimension 0.</param>
    /// <param name="length">Number of indices along dimension 0.</param>
    /// <returns>A non-owning view, valid while this tensor is.</returns>
    public DeviceTensor Slice(long start, long length)
    {
        ThrowIfDisposed();
        if (Rank == 0) throw new InvalidOperationException("A scalar tensor has no dimension to slice.");
        if (start < 0 || length < 0 || start > _shape[0] - length)
        {
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Slice [{start}, {start}+{length}) is outside dimension 0 of shape {TensorShape.Format(Shape)}.");
        }

        long inner = _shape[0] == 0 ? 0 : ElementCount / _shape[0];
        long[] shape = (long[])_shape.Clone();
        shape[0] = length;
        nint pointer = Pointer + (nint)(start * inner * DType.ElementSize());
        return new DeviceTensor(pointer, DType, shape, Device, null, Root);
    }

    /// <summary>
    /// Tells the allocator that work outside this library's calls (a framework's kernels reading <see cref="Pointer"/>)
    /// uses the memory on <paramref name="stream"/>, as PyTorch's <c>record_stream</c> does: if that is not the stream the
    /// memory was allocated for, it is not reused from the cache at once after <see cref="Dispose"/> (calls of this
    /// library note their streams themselves). Call it before queuing that work: memory the allocator reused for another
    /// stream may still be in use by work queued there before, and its first use on this stream then waits for the
    /// device first (as the library's own calls do). Does nothing for wrapped memory.
    /// </summary>
    /// <param name="stream">The stream the memory is used on.</param>
    /// <exception cref="ObjectDisposedException">The tensor has been disposed.</exception>
    public void RecordStream(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ThrowIfDisposed();
        nint handle = stream.Handle;
        if (Memory is not NativeHandle memory) return;
        memory.NoteStream(handle);
        CallLease.OrderFirstUse(memory, handle);
    }

    /// <summary>
    /// Takes the tensor out of the <see cref="TensorScope"/> it was allocated in, so that the scope's end does not
    /// dispose it (the caller does). Does nothing for a tensor in no scope.
    /// </summary>
    /// <returns>This tensor.</returns>
    public DeviceTensor DetachFromScope()
    {
        Volatile.Read(ref _scope)?.Remove(this);
        return this;
    }

    /// <summary>
    /// Moves the tensor from its <see cref="TensorScope"/> to the scope around it, which disposes it instead (a result
    /// handed out of a nested block); detaches it when there is no outer scope. Does nothing for a tensor in no scope.
    /// </summary>
    /// <returns>This tensor.</returns>
    public DeviceTensor MoveToOuterScope()
    {
        if (Volatile.Read(ref _scope) is not TensorScope scope) return this;
        scope.Remove(this);
        for (TensorScope? outer = scope.Outer; outer is not null; outer = outer.Outer)
        {
            if (outer.Add(this)) break;
        }

        return this;
    }

    /// <summary>Frees owned memory (after which the tensor and its views are unusable); does nothing for wrapped memory.</summary>
    /// <remarks>
    /// Owned memory goes back to the allocator that made it (<see cref="IDeviceAllocator"/>); with the default caching
    /// allocator it is reused for later allocations on the same stream, behind the work already queued there.
    /// </remarks>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Volatile.Read(ref _scope)?.Remove(this);
        _memory?.Dispose();
        _owner?.Dispose();
    }

    /// <summary>Describes the tensor: element type, shape, device and address.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"DeviceTensor({DType}, {TensorShape.Format(Shape)}, device {Device}, 0x{Pointer:X}{(OwnsMemory ? "" : ", view")}{(IsDisposed ? ", disposed" : "")})";

    /// <summary>Throws <see cref="ObjectDisposedException"/> if this tensor or its base has been disposed.</summary>
    internal void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(DeviceTensor), $"{this} has been disposed.");
    }

    /// <summary>
    /// Takes the tensor for one native call: holds owned memory (its own or its base's), or the owner of wrapped
    /// memory, until the lease is disposed (and, during a graph capture, until the graph is).
    /// </summary>
    /// <param name="lease">The call's lease.</param>
    /// <returns>The device address of the first element.</returns>
    /// <exception cref="ObjectDisposedException">The tensor, or the tensor it views, is disposed.</exception>
    internal nint Take(CallLease lease)
    {
        ThrowIfDisposed();
        DeviceTensor root = Root;
        if (root._memory is NativeHandle memory) lease.Handle(memory, this);
        else if (root._owner is KeepAliveHandle owner) lease.Handle(owner, this);
        // A Dispose that raced past the first check is caught here; the lease releases what it took.
        ThrowIfDisposed();
        return Pointer;
    }

    /// <summary>The checks and device lookup of <see cref="Wrap(nint, DType, long[], int?, object?)"/>, after the shape's.</summary>
    private static DeviceTensor WrapChecked(nint pointer, DType dtype, long[] shape, long count, int? device, object? owner)
    {
        int elementSize = dtype.ElementSize();
        if (pointer == 0 && count > 0)
            throw new ArgumentException($"A null pointer cannot hold a tensor of shape {TensorShape.Format(shape)}.", nameof(pointer));
        if ((ulong)pointer % (ulong)elementSize != 0)
        {
            throw new ArgumentException(
                $"Pointer 0x{pointer:X} is not aligned for {dtype}: elements need {elementSize}-byte alignment " +
                $"(the address is {(ulong)pointer % (ulong)elementSize} bytes past a multiple of {elementSize}).", nameof(pointer));
        }

        // No device address reaches 2^63 on any CUDA platform; a tensor whose bytes would pass it (a caller's wrong
        // pointer or shape) makes the address of a view at its end, and the byte ranges the overlap checks form, wrap.
        long bytes = TensorShape.ByteCount(count, dtype, shape, nameof(shape));
        if ((UInt128)(ulong)pointer + (ulong)bytes > (UInt128)long.MaxValue + 1)
        {
            throw new ArgumentException(
                $"Pointer 0x{pointer:X} with {bytes} bytes of shape {TensorShape.Format(shape)} would end past 2^63, " +
                "beyond any device address.", nameof(pointer));
        }

        int ordinal;
        if (device is int given)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(given, nameof(device));
            ordinal = given;
        }
        else if (pointer == 0)
        {
            ordinal = DeviceScope.Current();
        }
        else
        {
            NativeLibraryLoader.EnsureLoaded();
            NativeStatus.Check(NativeMethods.gg_pointer_get_device((void*)pointer, out int where, out int isDevice));
            if (isDevice == 0 || where < 0)
            {
                throw new ArgumentException(
                    $"Pointer 0x{pointer:X} is host memory; grouped GEMM needs device memory.", nameof(pointer));
            }

            ordinal = where;
        }

        KeepAliveHandle? keepAlive = owner is null ? null : new KeepAliveHandle(owner);
        return new DeviceTensor(pointer, dtype, shape, ordinal, null, null, keepAlive);
    }

    /// <summary>Tests only: a tensor that owns <paramref name="memory"/> (with a made-up address) without allocating.</summary>
    /// <param name="memory">The handle standing for the memory.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <returns>An owning tensor on device 0.</returns>
    internal static DeviceTensor Adopt(NativeHandle memory, DType dtype, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new(memory.DangerousGetHandle(), dtype, (long[])shape.Clone(), 0, memory, null);
    }

    /// <summary>The <see cref="TensorScope"/> that will dispose this tensor, or null.</summary>
    internal TensorScope? Scope
    {
        get => Volatile.Read(ref _scope);
        set => Volatile.Write(ref _scope, value);
    }

    /// <summary>The owned memory this tensor uses (its own or its base's); null for wrapped memory.</summary>
    internal NativeHandle? Memory => Root._memory;

    /// <summary>What holds the owner given to <c>Wrap</c> (this tensor's or its base's); null when none was given.</summary>
    internal KeepAliveHandle? OwnerHandle => Root._owner;

    private DeviceTensor Root => _base ?? this;

    private void CheckHostRange<T>(int length, long elementOffset, string paramName)
        where T : unmanaged => CheckElementRange<T>(length, elementOffset, paramName);

    private void CheckElementRange<T>(long length, long elementOffset, string paramName)
        where T : unmanaged
    {
        ThrowIfDisposed();
        HostElementType.Check<T>(DType, paramName);

        if (elementOffset < 0 || elementOffset > ElementCount - length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementOffset),
                $"Elements [{elementOffset}, {elementOffset}+{length}) are outside the tensor's {ElementCount} elements.");
        }
    }

    private static void CopyChunked(byte* destination, byte* source, long bytes, void* s)
    {
        for (long done = 0; done < bytes; done += CopyChunkBytes)
        {
            long chunk = Math.Min(CopyChunkBytes, bytes - done);
            NativeStatus.Check(NativeMethods.gg_memcpy(destination + done, source + done, (nuint)chunk, s));
        }
    }
}
