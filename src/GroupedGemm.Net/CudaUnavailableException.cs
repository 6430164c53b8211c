namespace GroupedGemm;

/// <summary>
/// CUDA cannot be used on this machine: a CUDA library the native library needs is missing, there is no
/// CUDA driver, or the driver sees no device. The message says what to install.
/// </summary>
/// <remarks><see cref="GroupedGemmException.Status"/> is the native status behind it, or null when the library itself could not load.</remarks>
public class CudaUnavailableException : GroupedGemmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is missing and what to install.</param>
    /// <param name="status">The native status behind it (<see cref="GroupedGemmStatus.NoDriver"/> or
    /// <see cref="GroupedGemmStatus.NoDevice"/>), or null when the library itself could not load.</param>
    /// <param name="missingLibrary">The shared library the loader could not find (for example <c>libcublas.so.12</c>), if that was the cause.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CudaUnavailableException(
        string message, GroupedGemmStatus? status = null, string? missingLibrary = null, Exception? innerException = null)
        : base(message, status, null, innerException)
    {
        MissingLibrary = missingLibrary;
    }

    /// <summary>The shared library the loader could not find, or null.</summary>
    public string? MissingLibrary { get; }
}
