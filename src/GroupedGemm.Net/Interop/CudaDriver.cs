using System.Runtime.InteropServices;

namespace GroupedGemm.Interop;

/// <summary>
/// The two CUDA driver functions the managed API needs and the C ABI does not export yet: a stream waiting on an event
/// (<c>cuStreamWaitEvent</c>) and a non-blocking event query (<c>cuEventQuery</c>). The runtime's <c>cudaStream_t</c>
/// and <c>cudaEvent_t</c> are the driver's <c>CUstream</c> and <c>CUevent</c>, and <c>libcuda.so.1</c> is present
/// wherever the native library can run. When the ABI gains <c>gg_stream_wait_event</c> and <c>gg_event_query</c>,
/// these calls move there.
/// </summary>
internal static unsafe partial class CudaDriver
{
    private const string Library = "libcuda.so.1";

    /// <summary>CUDA_SUCCESS.</summary>
    internal const int Success = 0;

    /// <summary>CUDA_ERROR_NOT_READY: the event's work has not finished.</summary>
    internal const int NotReady = 600;

    /// <summary>Makes <paramref name="stream"/> wait on the GPU for the work before <paramref name="cudaEvent"/>'s record.</summary>
    /// <param name="stream">The waiting stream (zero: the legacy default stream).</param>
    /// <param name="cudaEvent">The event.</param>
    /// <param name="device">The stream's device: its primary context is made current first.</param>
    internal static void StreamWaitEvent(nint stream, nint cudaEvent, int device)
    {
        int result;
        using (OnDevice(device))
        {
            try
            {
                result = cuStreamWaitEvent(stream, cudaEvent, 0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw Unavailable("cuStreamWaitEvent", e);
            }
        }

        Check(result, "cuStreamWaitEvent");
    }

    /// <summary>Whether the work before the event's record has finished (without waiting).</summary>
    /// <param name="cudaEvent">The event.</param>
    /// <param name="device">The event's device: its primary context is made current first.</param>
    /// <returns>True when done; false while it runs.</returns>
    internal static bool EventQuery(nint cudaEvent, int device)
    {
        int result;
        using (OnDevice(device))
        {
            try
            {
                result = cuEventQuery(cudaEvent);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw Unavailable("cuEventQuery", e);
            }
        }

        if (result == NotReady) return false;
        Check(result, "cuEventQuery");
        return true;
    }

    /// <summary>
    /// Makes <paramref name="device"/>'s primary context current for a driver call, and the thread's previous device
    /// current again afterwards. Unlike <see cref="DeviceScope.Enter"/> it always calls <c>cudaSetDevice</c>: a thread
    /// (a thread-pool thread resuming an await) whose runtime device is already right may not have the context current yet.
    /// </summary>
    private static DeviceRestore OnDevice(int device)
    {
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_get_device(out int previous));
        NativeStatus.Check(NativeMethods.gg_set_device(device));
        return new DeviceRestore(previous == device ? -1 : previous);
    }

    private readonly struct DeviceRestore(int previous) : IDisposable
    {
        public void Dispose()
        {
            if (previous >= 0) _ = NativeMethods.gg_set_device(previous);
        }
    }

    /// <summary>
    /// The error for a driver library that cannot be loaded or lacks <paramref name="function"/> (the runtime loaded it
    /// for the native library, so this means an unusual install: a driver without <c>libcuda.so.1</c> on the loader's path).
    /// </summary>
    /// <param name="function">The driver function called.</param>
    /// <param name="cause">The loader's exception.</param>
    /// <returns>The exception to throw.</returns>
    internal static CudaUnavailableException Unavailable(string function, Exception cause) =>
        new($"{function} needs the CUDA driver library {Library}, which could not be loaded or lacks it ({cause.Message}); " +
            "install the NVIDIA driver, or put the folder holding its libcuda.so.1 on LD_LIBRARY_PATH.",
            GroupedGemmStatus.NoDriver, Library, cause);

    private static void Check(int result, string function)
    {
        if (result != Success)
        {
            throw new GroupedGemmException(GroupedGemmStatus.CudaError,
                $"{function} failed with CUresult {result} (see cuda.h for the code).");
        }
    }

    [LibraryImport(Library)]
    private static partial int cuStreamWaitEvent(nint stream, nint cudaEvent, uint flags);

    [LibraryImport(Library)]
    private static partial int cuEventQuery(nint cudaEvent);
}
