namespace GroupedGemm;

/// <summary>
/// A device (or pinned host) allocation failed: <c>cudaMalloc</c> for a tensor or a workspace, or cuBLAS's own
/// (<see cref="GroupedGemmStatus.OutOfMemory"/>), so the call that threw did not complete. A framework that caches
/// device memory can catch this, empty its cache and run the call again.
/// </summary>
/// <remarks>The message and <see cref="GroupedGemmException.NativeMessage"/> carry the native text (which call, which CUDA error).</remarks>
public class CudaOutOfMemoryException : GroupedGemmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="nativeMessage">The library's detailed message, possibly empty.</param>
    public CudaOutOfMemoryException(string nativeMessage)
        : this(nativeMessage, null)
    {
    }

    /// <summary>Creates the exception with the exception that caused it.</summary>
    /// <param name="nativeMessage">The library's detailed message, possibly empty.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CudaOutOfMemoryException(string nativeMessage, Exception? innerException)
        : base(Compose(GroupedGemmStatus.OutOfMemory, nativeMessage), GroupedGemmStatus.OutOfMemory, nativeMessage, innerException)
    {
    }
}
