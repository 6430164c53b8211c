using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// An executable CUDA graph captured from the work an action queues on a stream, replayable with
/// <see cref="Launch"/>. Device memory read by the captured kernels (for example device batch sizes) may be
/// changed between launches; the replay reads the new values.
/// </summary>
public sealed unsafe class CudaGraph : IDisposable
{
    private readonly NativeHandle _exec;

    private CudaGraph(NativeHandle exec) => _exec = exec;

    /// <summary>The <c>cudaGraphExec_t</c> value.</summary>
    public nint Handle => _exec.DangerousGetHandle();

    /// <summary>
    /// Captures what <paramref name="body"/> queues on <paramref name="stream"/> (thread-local capture mode) and
    /// instantiates it. The body must only queue work on that stream: no host synchronisation, no allocation
    /// (use the <c>Into</c> overloads with preallocated outputs, device batch sizes, and
    /// <see cref="GroupedGemmContext.Reserve"/> beforehand).
    /// </summary>
    /// <param name="stream">A stream made by <see cref="CudaStream.Create()"/> or wrapped; not the legacy default stream.</param>
    /// <param name="body">The work to capture.</param>
    /// <returns>The executable graph.</returns>
    public static CudaGraph Capture(CudaStream stream, Action body)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(body);
        if (stream.Handle == 0)
            throw new ArgumentException("The legacy default stream cannot be captured; use CudaStream.Create().", nameof(stream));

        NativeLibraryLoader.EnsureLoaded();
        void* s = (void*)stream.Handle;
        NativeStatus.Check(NativeMethods.gg_stream_begin_capture(s));
        nint exec;
        try
        {
            body();
        }
        catch
        {
            // End the capture so the stream is usable again; the partial graph is discarded.
            if (NativeMethods.gg_stream_end_capture(s, out exec) == GgStatus.Success && exec != 0)
                _ = NativeMethods.gg_graph_destroy((void*)exec);
            throw;
        }

        NativeStatus.Check(NativeMethods.gg_stream_end_capture(s, out exec));
        return new CudaGraph(new NativeHandle(exec, NativeHandleKind.GraphExec));
    }

    /// <summary>Queues one replay of the graph on <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream; null for the legacy default stream.</param>
    public void Launch(CudaStream? stream = null)
    {
        ObjectDisposedException.ThrowIf(_exec.IsClosed, this);
        NativeStatus.Check(NativeMethods.gg_graph_launch((void*)Handle, (void*)(stream?.Handle ?? 0)));
    }

    /// <summary>Destroys the executable graph.</summary>
    public void Dispose() => _exec.Dispose();
}
