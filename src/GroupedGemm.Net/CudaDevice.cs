using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>CUDA devices and the native library's build: what exists on this machine and what can run on it.</summary>
public static unsafe class CudaDevice
{
    /// <summary>
    /// The number of CUDA devices, at least 1.
    /// </summary>
    /// <exception cref="CudaUnavailableException">There is no CUDA driver ("no CUDA driver"), the driver sees no device
    /// ("no CUDA device"), or a CUDA library is missing.</exception>
    /// <exception cref="NativeLibraryNotFoundException">The native library is not installed or built.</exception>
    public static int Count
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            NativeStatus.Check(NativeMethods.gg_device_count(out int count));
            if (count <= 0)
            {
                throw new CudaUnavailableException(
                    "no CUDA device: the CUDA driver is installed but reports no GPU; check `nvidia-smi` and " +
                    "CUDA_VISIBLE_DEVICES.",
                    GroupedGemmStatus.NoDevice);
            }

            return count;
        }
    }

    /// <summary>Whether the native library loads and at least one CUDA device is usable. Never throws.</summary>
    public static bool IsAvailable => UnavailableReason is null;

    /// <summary>Why CUDA cannot be used here (the message of the exception <see cref="Count"/> would throw), or null when it can.</summary>
    public static string? UnavailableReason
    {
        get
        {
            try
            {
                _ = Count;
                return null;
            }
            catch (Exception e) when (e is CudaUnavailableException or NativeLibraryNotFoundException
                                          or NativeLibraryLoadException or GroupedGemmException)
            {
                return e.Message;
            }
        }
    }

    /// <summary>The installed CUDA driver's version, CUDA_VERSION style (13000 = 13.0).</summary>
    /// <exception cref="CudaUnavailableException">There is no CUDA driver.</exception>
    public static int DriverVersion
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            NativeStatus.Check(NativeMethods.gg_driver_version(out int version));
            return version;
        }
    }

    /// <summary>The calling thread's current device; setting it makes another device current.</summary>
    public static int Current
    {
        get => DeviceScope.Current();
        set
        {
            NativeLibraryLoader.EnsureLoaded();
            NativeStatus.Check(NativeMethods.gg_set_device(value));
        }
    }

    /// <summary>What the loaded native library was compiled with.</summary>
    public static NativeBuildInfo BuildInfo
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            GgBuildInfo info;
            NativeStatus.Check(NativeMethods.gg_get_build_info(&info));
            var architectures = new List<string>(info.ArchitectureCount);
            for (int i = 0; i < info.ArchitectureCount; i++)
            {
                string? arch = NativeStatus.Utf8(NativeMethods.gg_build_architecture(i));
                if (arch is not null) architectures.Add(arch);
            }

            int mask = info.CompiledBackends;
            var backends = Enum.GetValues<GemmBackend>().Where(b => (mask & (1 << (int)b)) != 0).ToArray();
            return new NativeBuildInfo(
                NativeStatus.Utf8(NativeMethods.gg_version_string()) ?? "unknown",
                info.AbiVersion, info.CudaToolkitVersion, info.CublasVersion, architectures, backends);
        }
    }

    /// <summary>Properties of device <paramref name="device"/>.</summary>
    /// <param name="device">The device ordinal.</param>
    /// <returns>Name, compute capability, SM count, memory sizes.</returns>
    public static CudaDeviceProperties GetProperties(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        NativeLibraryLoader.EnsureLoaded();
        GgDeviceProperties p;
        NativeStatus.Check(NativeMethods.gg_device_get_properties(device, &p));
        const int nameCapacity = 256;
        byte* name = stackalloc byte[nameCapacity];
        NativeStatus.Check(NativeMethods.gg_device_get_name(device, name, nameCapacity));
        return new CudaDeviceProperties(device, NativeStatus.Utf8(name) ?? string.Empty, p.Major, p.Minor,
            p.MultiprocessorCount, p.TotalMemory, p.L2CacheSize, p.SharedMemoryPerBlockOptin);
    }

    /// <summary>Free and total memory of device <paramref name="device"/>, in bytes.</summary>
    /// <param name="device">The device ordinal.</param>
    /// <returns>The free and the total byte counts.</returns>
    public static (long Free, long Total) GetMemoryInfo(int device)
    {
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_mem_get_info(out nuint free, out nuint total));
        return ((long)free, (long)total);
    }

    /// <summary>Waits for all work on the calling thread's current device.</summary>
    public static void Synchronize()
    {
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_device_synchronize());
    }

    /// <summary>The library's name for a backend ("cublas-loop", "cutlass-sm90", ...).</summary>
    /// <param name="backend">The backend.</param>
    /// <returns>The name, or the enum name if the library does not know the value.</returns>
    public static string BackendName(GemmBackend backend)
    {
        NativeLibraryLoader.EnsureLoaded();
        return NativeStatus.Utf8(NativeMethods.gg_backend_name((GgBackend)backend)) ?? backend.ToString();
    }
}
