using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// The ambient stream of each device, per thread and async flow: <see cref="CudaStream.AsCurrent"/> pushes a frame,
/// disposing its scope ends the frame. Calls given no stream look their device up here.
/// </summary>
/// <remarks>
/// Frames are ended rather than restored to a saved top, so that scopes disposed out of order (an outer one first, or one
/// on another flow) neither drop a scope still open nor bring back one already disposed: lookups skip ended frames, and
/// ended frames are popped off the top of the calling flow.
/// </remarks>
internal static class AmbientStream
{
    private static readonly AsyncLocal<Frame?> s_top = new();

    /// <summary>The innermost ambient stream set for <paramref name="device"/>, or null (the legacy default stream).</summary>
    /// <param name="device">The device; -1 for the calling thread's current device.</param>
    /// <returns>The stream, or null when none is set.</returns>
    internal static CudaStream? Find(int device)
    {
        Frame? top = s_top.Value;
        if (top is null) return null;
        // Only read the thread's device (a native call) when some stream is set.
        if (device < 0) device = DeviceScope.Current();
        for (Frame? f = top; f is not null; f = f.Outer)
        {
            if (f.Device == device && !f.Ended) return f.Stream;
        }

        return null;
    }

    /// <summary>Makes <paramref name="stream"/> ambient for <paramref name="device"/> until the returned frame is ended.</summary>
    /// <param name="device">The stream's device.</param>
    /// <param name="stream">The stream.</param>
    /// <returns>The new frame, to end with <see cref="End"/>.</returns>
    internal static object Push(int device, CudaStream stream)
    {
        var frame = new Frame(device, stream, s_top.Value);
        s_top.Value = frame;
        return frame;
    }

    /// <summary>Ends a frame from <see cref="Push"/>, and pops the ended frames off the top of the calling flow.</summary>
    /// <param name="frame">What <see cref="Push"/> returned.</param>
    internal static void End(object frame)
    {
        ((Frame)frame).Ended = true;
        Frame? top = s_top.Value;
        while (top is { Ended: true }) top = top.Outer;
        if (!ReferenceEquals(top, s_top.Value)) s_top.Value = top;
    }

    private sealed class Frame(int device, CudaStream stream, Frame? outer)
    {
        private volatile bool _ended;

        public int Device { get; } = device;

        public CudaStream Stream { get; } = stream;

        public Frame? Outer { get; } = outer;

        public bool Ended
        {
            get => _ended;
            set => _ended = value;
        }
    }
}
