using System.Runtime.InteropServices;

namespace GroupedGemm.Interop;

/// <summary>
/// Collects, while <see cref="CudaGraph.Capture"/> runs its body on this thread, the handles (tensor memory, the
/// contexts whose workspace the captured calls use, streams) that the captured calls took through a
/// <see cref="CallLease"/>. The graph keeps a reference on each until it is disposed, so that a replay never reads
/// or writes memory that a <c>Dispose</c> or the finalizer freed after the capture.
/// </summary>
/// <remarks>
/// Capture runs in thread-local mode, so the calls made by the body on the capturing thread are the calls that
/// are captured; a call the body makes on another, uncaptured stream is recorded too, which only keeps its
/// arguments alive a little longer.
/// </remarks>
internal sealed class CaptureRecorder : IDisposable
{
    [ThreadStatic]
    private static CaptureRecorder? t_active;

    private readonly CaptureRecorder? _outer;
    private readonly HashSet<SafeHandle> _recorded = new(ReferenceEqualityComparer.Instance);
    private bool _closed;

    private CaptureRecorder(CaptureRecorder? outer) => _outer = outer;

    /// <summary>Starts recording on the calling thread (recorders nest).</summary>
    /// <returns>The recorder; <see cref="Detach"/> it when the body returns.</returns>
    internal static CaptureRecorder Begin()
    {
        var recorder = new CaptureRecorder(t_active);
        t_active = recorder;
        return recorder;
    }

    /// <summary>Adds a graph reference on <paramref name="handle"/> if a capture is open on this thread.</summary>
    /// <param name="handle">A handle that a lease has just taken.</param>
    internal static void Record(SafeHandle handle)
    {
        for (CaptureRecorder? r = t_active; r is not null; r = r._outer)
        {
            if (r._closed || r._recorded.Contains(handle)) continue;
            bool added = false;
            handle.DangerousAddRef(ref added);
            if (added) r._recorded.Add(handle);
        }
    }

    /// <summary>Whether a capture is recording on the calling thread (nothing may synchronise then).</summary>
    internal static bool IsCapturing => t_active is not null;

    /// <summary>
    /// The devices of the recorded allocator blocks whose first use (in the capture) was not ordered after the work that
    /// may still use them (see <see cref="CallLease.OrderFirstUse"/>); claims those first uses.
    /// </summary>
    /// <returns>The devices to synchronise before the graph may be launched.</returns>
    internal HashSet<int> TakePendingFirstUses()
    {
        var devices = new HashSet<int>();
        foreach (SafeHandle handle in _recorded)
        {
            if (handle is NativeHandle memory && memory.TakeFirstUse()) devices.Add(memory.BlockDevice);
        }

        return devices;
    }

    /// <summary>How many distinct handles the capture holds.</summary>
    internal int Count => _recorded.Count;

    /// <summary>Stops recording on this thread; the references stay until <see cref="Dispose"/>.</summary>
    internal void Detach()
    {
        _closed = true;
        // Pop every closed recorder off the top, so that one ended out of order does not linger on the thread.
        while (t_active is { _closed: true } closed) t_active = closed._outer;
    }

    /// <summary>
    /// Notes that a replay of the graph runs on <paramref name="stream"/>: every allocator block the graph holds is then
    /// treated as used on that stream (<see cref="NativeHandle.NoteStream"/>), so that when the graph is disposed a
    /// block allocated for the capture stream is not cached for reuse there while a replay on another stream may still
    /// read or write it.
    /// </summary>
    /// <param name="stream">The launch stream.</param>
    internal void NoteStream(nint stream)
    {
        lock (_recorded)
        {
            foreach (SafeHandle handle in _recorded)
            {
                if (handle is NativeHandle memory) memory.NoteStream(stream);
            }
        }
    }

    /// <summary>Releases every recorded reference (memory whose owner was disposed is freed now).</summary>
    public void Dispose()
    {
        Detach();
        lock (_recorded)
        {
            foreach (SafeHandle handle in _recorded) handle.DangerousRelease();
            _recorded.Clear();
        }
    }
}
