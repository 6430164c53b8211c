using System.Runtime.InteropServices;

namespace GroupedGemm.Interop;

/// <summary>The one place native statuses become exceptions.</summary>
internal static unsafe class NativeStatus
{
    /// <summary>Throws for any status other than success, with the library's detailed message of this thread.</summary>
    /// <param name="status">The status a native call returned.</param>
    /// <exception cref="CudaUnavailableException">The status is NoDriver or NoDevice.</exception>
    /// <exception cref="CudaOutOfMemoryException">The status is OutOfMemory.</exception>
    /// <exception cref="GroupedGemmException">Any other failure.</exception>
    internal static void Check(GgStatus status)
    {
        if (status != GgStatus.Success) throw Failure(status);
    }

    /// <summary>The exception for a failed status (reads the thread's last native error message).</summary>
    /// <param name="status">A status other than success.</param>
    /// <returns>The exception to throw.</returns>
    internal static GroupedGemmException Failure(GgStatus status) => Failure(status, LastErrorMessage());

    /// <summary>The exception for a failed status and its native message: the one mapping of statuses to exception types.</summary>
    /// <param name="status">A status other than success.</param>
    /// <param name="message">The library's detailed message, kept in the exception's text.</param>
    /// <returns>The exception to throw.</returns>
    internal static GroupedGemmException Failure(GgStatus status, string message)
    {
        var managed = (GroupedGemmStatus)status;
        return managed switch
        {
            GroupedGemmStatus.NoDriver => new CudaUnavailableException(
                "no CUDA driver: the NVIDIA driver is not installed, not loadable, or older than the CUDA runtime " +
                $"GroupedGemm was built with. Install or update the NVIDIA driver (`nvidia-smi` should work). {message}",
                managed),
            GroupedGemmStatus.NoDevice => new CudaUnavailableException(
                "no CUDA device: the CUDA driver works but sees no usable GPU (or not the one asked for); " +
                $"check `nvidia-smi` and CUDA_VISIBLE_DEVICES. {message}",
                managed),
            // The native layer maps cudaErrorMemoryAllocation and CUBLAS_STATUS_ALLOC_FAILED to this status.
            GroupedGemmStatus.OutOfMemory => new CudaOutOfMemoryException(message),
            _ => new GroupedGemmException(managed, message),
        };
    }

    /// <summary>The detailed message of the last failed native call on this thread ("" if none).</summary>
    /// <returns>The message.</returns>
    internal static string LastErrorMessage() => Utf8(NativeMethods.gg_last_error_message()) ?? string.Empty;

    /// <summary>Decodes a NUL-terminated UTF-8 string the library owns.</summary>
    /// <param name="text">The pointer, possibly null.</param>
    /// <returns>The text, or null for a null pointer.</returns>
    internal static string? Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text);
}
