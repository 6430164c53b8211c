using System.Buffers;
using System.Runtime.InteropServices;

namespace GroupedGemm.Interop;

/// <summary>
/// Keeps the native resources of one native call alive until the call returns: every tensor, stream, context or
/// graph whose raw value goes into the call is taken through the lease, which adds a reference to its
/// <see cref="SafeHandle"/>. While the lease is open, neither the finalizer (the object stays reachable from the
/// lease) nor a <c>Dispose</c> on another thread (the release is deferred until the last reference goes) can free
/// the memory or handle under the running call. Dispose the lease after the native call has returned.
/// </summary>
/// <remarks>
/// Use it as <c>using var lease = new CallLease();</c>, then read raw values only through <see cref="Pointer"/>,
/// <see cref="Stream"/>, <see cref="Handle"/> and <see cref="Pin{T}"/>. Wrapped memory and wrapped streams have no handle here (their
/// owner keeps them alive); the lease still checks that the wrapper itself is not disposed. While a graph capture
/// is open on the calling thread (<see cref="CaptureRecorder"/>), every handle taken is also recorded for the graph.
/// </remarks>
internal sealed class CallLease : IDisposable
{
    /// <summary>Tests only: runs after each tensor is taken, before the native call (to dispose it "from another thread").</summary>
    [ThreadStatic]
    internal static Action<DeviceTensor>? t_afterTensorTaken;

    /// <summary>Tests only: stands for the device synchronisation of <see cref="SynchronizeDevice"/> on this thread.</summary>
    [ThreadStatic]
    internal static Action<int>? t_synchronizeDevice;

    private readonly List<SafeHandle> _held = new(6);
    private readonly bool _queuesWork;
    private List<MemoryHandle>? _pinned;
    private int _device = -1;
    private nint _stream;
    private bool _streamTaken;

    /// <summary>A lease for a call that queues work on its stream (every call but a query).</summary>
    public CallLease()
        : this(queuesWork: true)
    {
    }

    /// <summary>A lease; <paramref name="queuesWork"/> says whether the call queues GPU work on its stream.</summary>
    /// <param name="queuesWork">
    /// False for a query that only looks at its arguments (backend selection): its stream is then not noted on the
    /// memory it takes, and it does not count as a block's first use (<see cref="OrderFirstUse"/>), since no work of
    /// it is queued for later work to be ordered behind.
    /// </param>
    internal CallLease(bool queuesWork) => _queuesWork = queuesWork;

    /// <summary>Takes a reference on <paramref name="handle"/> for the duration of the call.</summary>
    /// <param name="handle">The handle; its owner must not be disposed.</param>
    /// <param name="owner">The object to name in <see cref="ObjectDisposedException"/>.</param>
    /// <returns>The raw handle value, valid until the lease is disposed.</returns>
    /// <exception cref="ObjectDisposedException">The handle was already closed.</exception>
    internal nint Handle(SafeHandle handle, object owner)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(owner.GetType().Name, $"{owner} has been disposed.");
        }

        if (added)
        {
            _held.Add(handle);
            CaptureRecorder.Record(handle);
        }

        return handle.DangerousGetHandle();
    }

    /// <summary>The device address of <paramref name="tensor"/>, its memory held until the lease is disposed.</summary>
    /// <param name="tensor">The tensor; null gives zero.</param>
    /// <returns>The device address.</returns>
    /// <exception cref="ObjectDisposedException">The tensor, or the tensor it views, is disposed.</exception>
    internal nint Pointer(DeviceTensor? tensor)
    {
        if (tensor is null) return 0;
        nint pointer = tensor.Take(this);
        if (_device < 0) _device = tensor.Device;
        if (_queuesWork && _streamTaken && tensor.Memory is NativeHandle memory) OrderFirstUse(memory, _stream);
        t_afterTensorTaken?.Invoke(tensor);
        return pointer;
    }

    /// <summary>
    /// The <c>cudaStream_t</c> of <paramref name="stream"/>, the stream held until the lease is disposed. Null means the
    /// ambient stream (<see cref="CudaStream.Current"/>) of <paramref name="device"/>, or else of the device of the first
    /// tensor taken, or else of the calling thread's device: take the tensors first. Owned tensor memory taken by this
    /// lease is noted as used on the stream (so that the allocator reuses it safely).
    /// </summary>
    /// <param name="stream">The stream; null for the ambient one (the legacy default stream when none is set).</param>
    /// <param name="device">The device whose ambient stream null means; -1 to infer it.</param>
    /// <returns>The stream handle (zero for the legacy default stream).</returns>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    internal nint Stream(CudaStream? stream, int device = -1)
    {
        stream ??= AmbientStream.Find(device >= 0 ? device : _device);
        _stream = stream is null ? 0 : stream.Take(this);
        _streamTaken = true;
        if (!_queuesWork) return _stream;
        foreach (SafeHandle handle in _held)
        {
            if (handle is NativeHandle memory) OrderFirstUse(memory, _stream);
        }

        return _stream;
    }

    /// <summary>
    /// Orders the first use of an allocator block on <paramref name="stream"/> after the work that may still use it: a
    /// block the allocator reused from its cache is safe only on the stream it was allocated for (work queued there
    /// before its free runs first), so a first use on any other stream waits for the device, as <c>cudaFree</c> did
    /// before the block was cached. During a graph capture nothing may synchronise: <see cref="CudaGraph.Capture"/>
    /// waits once the capture has ended, before the graph can be launched.
    /// </summary>
    /// <param name="memory">The block (other handles are ignored).</param>
    /// <param name="stream">The stream of the call that uses it.</param>
    internal static void OrderFirstUse(NativeHandle memory, nint stream)
    {
        if (!memory.FirstUsePending || CaptureRecorder.IsCapturing || !memory.TakeFirstUse()) return;
        if (stream != memory.BlockStream) SynchronizeDevice(memory.BlockDevice);
    }

    /// <summary>Waits until <paramref name="device"/> has finished all queued work (tests substitute <see cref="t_synchronizeDevice"/>).</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    internal static void SynchronizeDevice(int device)
    {
        if (t_synchronizeDevice is Action<int> substitute)
        {
            substitute(device);
            return;
        }

        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_device_synchronize());
    }

    /// <summary>Pins host memory that the native call reads (host batch sizes) until the lease is disposed.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="memory">The memory; empty gives null.</param>
    /// <returns>The address of the first element.</returns>
    internal unsafe void* Pin<T>(ReadOnlyMemory<T> memory)
    {
        if (memory.IsEmpty) return null;
        MemoryHandle pin = memory.Pin();
        (_pinned ??= new(1)).Add(pin);
        return pin.Pointer;
    }

    /// <summary>Releases the references in reverse order (a release that was deferred by a Dispose happens here) and unpins host memory.</summary>
    public void Dispose()
    {
        if (_pinned is not null)
        {
            foreach (MemoryHandle pin in _pinned) pin.Dispose();
            _pinned.Clear();
        }

        for (int i = _held.Count - 1; i >= 0; i--)
        {
            if (_queuesWork && _streamTaken && _held[i] is NativeHandle memory) memory.NoteStream(_stream);
            _held[i].DangerousRelease();
        }

        _held.Clear();
    }
}
