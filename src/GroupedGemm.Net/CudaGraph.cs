using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// An executable CUDA graph captured from the work an action queues on a stream, replayable with
/// <see cref="Launch"/>. Device memory read by the captured kernels (for example device batch sizes) may be
/// changed between launches; the replay reads the new values.
/// </summary>
/// <remarks>
/// <para>
/// Lifetimes: a replay reads and writes the very addresses the capture saw. The graph therefore holds everything
/// its captured calls took (the memory of owned <see cref="DeviceTensor"/>s and their views, the
/// <see cref="GroupedGemmContext"/> whose workspace the calls use, streams passed to them) until
/// <see cref="Dispose"/>: disposing one of those earlier, or dropping the last reference to it, only marks it
/// disposed, and the memory is freed when the graph is disposed (or finalized, if it is never disposed).
/// </para>
/// <para>
/// Memory wrapped with <see cref="DeviceTensor.Wrap(nint, DType, long[], int?, object?)"/> is owned elsewhere and is
/// not held: its owner must keep it alive, at the same address, for as long as the graph may be launched. An owner
/// object given to <c>Wrap</c> is kept reachable by the graph (so its finalizer cannot free the memory), but
/// disposing that owner yourself still frees it. Calls made inside the capture body on
/// other threads are not captured and not held. Synchronise the launch stream before disposing the graph.
/// </para>
/// <para>
/// Scratch: a grouped GEMM call captured here takes its scratch (group arrays, partial sums) from graph memory of its
/// <see cref="GroupedGemmContext"/>, not from the context's shared workspace, so later uncaptured calls never move it
/// under the graph. Later captures reuse that scratch once this graph is disposed and its launches have ended; the
/// context frees it when the context itself is freed.
/// </para>
/// </remarks>
public sealed unsafe class CudaGraph : IDisposable
{
    private readonly NativeHandle _exec;
    private readonly CaptureRecorder _captured;

    private CudaGraph(NativeHandle exec, CaptureRecorder captured)
    {
        _exec = exec;
        _captured = captured;
        // What the capture holds is released with the executable graph, so that a Dispose on one thread while a Launch
        // on another is queuing the replay frees nothing under it (the launch's lease defers the release); the handle's
        // finalizer does the same for a graph never disposed.
        exec.ReleaseAfter(captured);
    }

    /// <summary>The <c>cudaGraphExec_t</c> value.</summary>
    public nint Handle => _exec.DangerousGetHandle();

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _exec.IsClosed;

    /// <summary>How many native resources (tensor memory, contexts, streams) the graph holds; for tests.</summary>
    internal int HeldResourceCount => _captured.Count;

    /// <summary>
    /// Captures what <paramref name="body"/> queues on <paramref name="stream"/> (thread-local capture mode) and
    /// instantiates it. The body must only queue work on that stream: no host synchronisation, no allocation
    /// (use the <c>Into</c> overloads with preallocated outputs, device batch sizes, and
    /// <see cref="GroupedGemmContext.Reserve"/> beforehand). The graph holds the resources the captured calls use
    /// (see the remarks).
    /// </summary>
    /// <param name="stream">A stream made by <see cref="CudaStream.Create()"/> or wrapped; not the legacy default stream.</param>
    /// <param name="body">The work to capture.</param>
    /// <returns>The executable graph.</returns>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public static CudaGraph Capture(CudaStream stream, Action body)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(body);
        if (stream.Handle == 0)
            throw new ArgumentException("The legacy default stream cannot be captured; use CudaStream.Create().", nameof(stream));

        int device = DeviceScope.Current();
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream);
        NativeStatus.Check(NativeMethods.gg_stream_begin_capture(s));
        CaptureRecorder captured = CaptureRecorder.Begin();
        nint exec;
        try
        {
            body();
        }
        catch
        {
            captured.Dispose();
            // End the capture so the stream is usable again; the partial graph is discarded.
            if (NativeMethods.gg_stream_end_capture(s, out exec) == GgStatus.Success && exec != 0)
                _ = NativeMethods.gg_graph_destroy((void*)exec);
            throw;
        }

        captured.Detach();
        try
        {
            NativeStatus.Check(NativeMethods.gg_stream_end_capture(s, out exec));
        }
        catch
        {
            captured.Dispose();
            throw;
        }

        var graph = new CudaGraph(new NativeHandle(exec, NativeHandleKind.GraphExec, device), captured);
        try
        {
            // Blocks reused from the allocator's cache may still be in use by work queued before the capture (on their
            // own stream, which a replay on another stream would not wait for): wait for it before the graph can run.
            foreach (int blockDevice in captured.TakePendingFirstUses()) CallLease.SynchronizeDevice(blockDevice);
        }
        catch
        {
            graph.Dispose();
            throw;
        }

        return graph;
    }

    /// <summary>Queues one replay of the graph on <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ObjectDisposedException">The graph or the stream has been disposed.</exception>
    public void Launch(CudaStream? stream = null)
    {
        ObjectDisposedException.ThrowIf(_exec.IsClosed, this);
        using var lease = new CallLease();
        void* s = (void*)lease.Stream(stream, _exec.Device);
        void* exec = (void*)lease.Handle(_exec, this);
        // The replay uses the captured memory on this stream: a block allocated for another stream must not be cached
        // for reuse there when the graph is disposed (it goes to cudaFree, which waits for the replay, instead).
        _captured.NoteStream((nint)s);
        NativeStatus.Check(NativeMethods.gg_graph_launch(exec, s));
    }

    /// <summary>
    /// Destroys the executable graph, then releases what the capture held (freeing memory whose owners were disposed);
    /// both wait for a <see cref="Launch"/> in flight on another thread to return.
    /// </summary>
    public void Dispose() => _exec.Dispose();
}
