using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// The ambient stream of each device, per thread and async flow: <see cref="CudaStream.AsCurrent"/> pushes a frame,
/// disposing its scope restores the frame before it. Calls given no stream look their device up here.
/// </summary>
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
            if (f.Device == device) return f.Stream;
        }

        return null;
    }

    /// <summary>Makes <paramref name="stream"/> ambient for <paramref name="device"/> until the returned frame is popped.</summary>
    /// <param name="device">The stream's device.</param>
    /// <param name="stream">The stream.</param>
    /// <returns>The frame that was on top before, to restore with <see cref="Restore"/>.</returns>
    internal static object? Push(int device, CudaStream stream)
    {
        Frame? previous = s_top.Value;
        s_top.Value = new Frame(device, stream, previous);
        return previous;
    }

    /// <summary>Restores the frame that was on top before a <see cref="Push"/>.</summary>
    /// <param name="previous">What <see cref="Push"/> returned.</param>
    internal static void Restore(object? previous) => s_top.Value = (Frame?)previous;

    private sealed record Frame(int Device, CudaStream Stream, Frame? Outer);
}
