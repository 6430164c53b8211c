namespace GroupedGemm;

/// <summary>A native call failed: the status it returned and the library's detailed message.</summary>
public class GroupedGemmException : Exception
{
    /// <summary>Creates an exception for a failed native call.</summary>
    /// <param name="status">The status the native library returned.</param>
    /// <param name="nativeMessage">The library's detailed message (<c>gg_last_error_message</c>), possibly empty.</param>
    public GroupedGemmException(GroupedGemmStatus status, string nativeMessage)
        : base(Compose(status, nativeMessage))
    {
        Status = status;
        NativeMessage = nativeMessage;
    }

    /// <summary>Creates an exception with a status, a message and the exception that caused it.</summary>
    /// <param name="status">The status the native library returned.</param>
    /// <param name="nativeMessage">The library's detailed message.</param>
    /// <param name="innerException">The cause.</param>
    public GroupedGemmException(GroupedGemmStatus status, string nativeMessage, Exception? innerException)
        : base(Compose(status, nativeMessage), innerException)
    {
        Status = status;
        NativeMessage = nativeMessage;
    }

    /// <summary>The status the native library returned.</summary>
    public GroupedGemmStatus Status { get; }

    /// <summary>The library's detailed message for the failed call (may be empty).</summary>
    public string NativeMessage { get; }

    private static string Compose(GroupedGemmStatus status, string nativeMessage) =>
        string.IsNullOrEmpty(nativeMessage)
            ? $"GroupedGemm native call failed: {status}."
            : $"GroupedGemm native call failed: {status}: {nativeMessage}";
}
