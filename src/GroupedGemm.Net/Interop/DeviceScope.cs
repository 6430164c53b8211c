namespace GroupedGemm.Interop;

/// <summary>Makes a device current for the calling thread and restores the previous one on dispose.</summary>
internal readonly unsafe struct DeviceScope : IDisposable
{
    private readonly int _previous;
    private readonly bool _changed;

    private DeviceScope(int previous, bool changed)
    {
        _previous = previous;
        _changed = changed;
    }

    /// <summary>Switches to <paramref name="device"/> if it is not already current.</summary>
    /// <param name="device">The device ordinal.</param>
    /// <returns>The scope to dispose.</returns>
    internal static DeviceScope Enter(int device)
    {
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_get_device(out int current));
        if (current == device) return new DeviceScope(current, changed: false);
        NativeStatus.Check(NativeMethods.gg_set_device(device));
        return new DeviceScope(current, changed: true);
    }

    /// <summary>The calling thread's current device.</summary>
    /// <returns>The device ordinal.</returns>
    internal static int Current()
    {
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_get_device(out int current));
        return current;
    }

    /// <summary>Restores the previous device (best effort: a failure here must not hide the original one).</summary>
    public void Dispose()
    {
        if (_changed) _ = NativeMethods.gg_set_device(_previous);
    }
}
