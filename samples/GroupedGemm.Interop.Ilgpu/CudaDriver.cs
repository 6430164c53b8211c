using System.Runtime.InteropServices;

namespace GroupedGemm.Interop.Ilgpu;

/// <summary>
/// Three CUDA driver calls that show which context is in use: the thread's current one, and whether the device's
/// primary context (the one the CUDA runtime, hence libgroupedgemm, uses when no context is current) is active.
/// </summary>
internal static partial class CudaDriver
{
    private const string Library = "libcuda.so.1";

    /// <summary>The calling thread's current CUDA context (<c>cuCtxGetCurrent</c>); zero when none.</summary>
    /// <returns>The <c>CUcontext</c>.</returns>
    public static nint CurrentContext()
    {
        Check(cuCtxGetCurrent(out nint context), "cuCtxGetCurrent");
        return context;
    }

    /// <summary>Whether device <paramref name="ordinal"/>'s primary context is active (<c>cuDevicePrimaryCtxGetState</c>).</summary>
    /// <param name="ordinal">The CUDA device ordinal.</param>
    /// <returns>True when some code has retained the primary context.</returns>
    public static bool PrimaryContextActive(int ordinal)
    {
        Check(cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        Check(cuDevicePrimaryCtxGetState(device, out _, out int active), "cuDevicePrimaryCtxGetState");
        return active != 0;
    }

    private static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed with CUresult {result}");
    }

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int cuCtxGetCurrent(out nint context);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int cuDevicePrimaryCtxGetState(int device, out uint flags, out int active);
}
