namespace GroupedGemm;

/// <summary>
/// The base type of the errors GroupedGemm raises itself, and the exception for a failed native call: the status it
/// returned and the library's detailed message. Catch this type to handle every such error at once.
/// </summary>
/// <remarks>
/// <para>Derived types say more about the failure:</para>
/// <list type="bullet">
/// <item><see cref="CudaOutOfMemoryException"/>: an allocation on the device failed; a caller with a cache of device
/// memory can empty it and retry.</item>
/// <item><see cref="CudaUnavailableException"/>: there is no CUDA driver, no device, or a CUDA library is missing.</item>
/// <item><see cref="NativeLibraryLoadException"/>: a file was found where the native library should be but cannot be used.</item>
/// </list>
/// <para>
/// Two kinds of error keep the types .NET code already expects instead: <see cref="NativeLibraryNotFoundException"/>
/// is a <see cref="DllNotFoundException"/> (the runtime's own error for a missing library), and bad arguments or
/// disposed objects throw <see cref="ArgumentException"/> and <see cref="ObjectDisposedException"/> before any native
/// call.
/// </para>
/// </remarks>
public class GroupedGemmException : Exception
{
    /// <summary>Creates an exception for a failed native call.</summary>
    /// <param name="status">The status the native library returned.</param>
    /// <param name="nativeMessage">The library's detailed message (<c>gg_last_error_message</c>), possibly empty.</param>
    public GroupedGemmException(GroupedGemmStatus status, string nativeMessage)
        : this(status, nativeMessage, null)
    {
    }

    /// <summary>Creates an exception with a status, a message and the exception that caused it.</summary>
    /// <param name="status">The status the native library returned.</param>
    /// <param name="nativeMessage">The library's detailed message.</param>
    /// <param name="innerException">The cause.</param>
    public GroupedGemmException(GroupedGemmStatus status, string nativeMessage, Exception? innerException)
        : this(Compose(status, nativeMessage), status, nativeMessage, innerException)
    {
    }

    /// <summary>Creates an exception of a derived type with its own message.</summary>
    /// <param name="message">The whole message.</param>
    /// <param name="status">The native status behind the failure, or null when no native call failed.</param>
    /// <param name="nativeMessage">The library's detailed message, or null for none.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected GroupedGemmException(string message, GroupedGemmStatus? status, string? nativeMessage, Exception? innerException)
        : base(message, innerException)
    {
        Status = status;
        NativeMessage = nativeMessage ?? string.Empty;
    }

    /// <summary>
    /// The status the native library returned; null when the error did not come from a native call (the library
    /// could not be loaded, or a CUDA library it needs is missing).
    /// </summary>
    public GroupedGemmStatus? Status { get; }

    /// <summary>The library's detailed message for the failed call (may be empty).</summary>
    public string NativeMessage { get; }

    /// <summary>The message of a failed native call: the status, then the native message.</summary>
    /// <param name="status">The status.</param>
    /// <param name="nativeMessage">The native message, possibly empty.</param>
    /// <returns>The text.</returns>
    private protected static string Compose(GroupedGemmStatus status, string? nativeMessage) =>
        string.IsNullOrEmpty(nativeMessage)
            ? $"GroupedGemm native call failed: {status}."
            : $"GroupedGemm native call failed: {status}: {nativeMessage}";
}
