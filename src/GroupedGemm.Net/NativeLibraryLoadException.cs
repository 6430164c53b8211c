namespace GroupedGemm;

/// <summary>
/// A file was found where the native library should be, but it could not be used: it is not a loadable
/// shared library, it is not the GroupedGemm library, or its ABI version differs from this assembly's.
/// </summary>
/// <remarks>No native call was made: <see cref="GroupedGemmException.Status"/> is null.</remarks>
public class NativeLibraryLoadException : GroupedGemmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="libraryPath">The file that was tried.</param>
    /// <param name="message">What is wrong with it.</param>
    /// <param name="innerException">The loader's exception, if any.</param>
    public NativeLibraryLoadException(string libraryPath, string message, Exception? innerException = null)
        : base(message, null, null, innerException)
    {
        LibraryPath = libraryPath;
    }

    /// <summary>The file that was tried.</summary>
    public string LibraryPath { get; }
}
