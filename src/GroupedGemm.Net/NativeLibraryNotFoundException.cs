namespace GroupedGemm;

/// <summary>
/// The native library <c>libgroupedgemm.so</c> was not found. The message lists every path tried and how to
/// build or install the library.
/// </summary>
/// <remarks>
/// The one error of the package that does not derive from <see cref="GroupedGemmException"/>: it is a
/// <see cref="DllNotFoundException"/>, the runtime's own error for a missing native library, which callers may
/// already catch.
/// </remarks>
public class NativeLibraryNotFoundException : DllNotFoundException
{
    /// <summary>Creates the exception from the paths that were tried.</summary>
    /// <param name="searchedPaths">Every candidate path, in the order tried.</param>
    public NativeLibraryNotFoundException(IReadOnlyList<string> searchedPaths)
        : base(Compose(searchedPaths))
    {
        SearchedPaths = searchedPaths;
    }

    /// <summary>Creates the exception with a custom message.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="searchedPaths">Every candidate path, in the order tried.</param>
    public NativeLibraryNotFoundException(string message, IReadOnlyList<string> searchedPaths)
        : base(message)
    {
        SearchedPaths = searchedPaths;
    }

    /// <summary>Every candidate path, in the order tried.</summary>
    public IReadOnlyList<string> SearchedPaths { get; }

    private static string Compose(IReadOnlyList<string> searchedPaths) =>
        "The GroupedGemm native library (libgroupedgemm.so) was not found. Paths tried:"
        + string.Concat(searchedPaths.Select(p => Environment.NewLine + "  " + p))
        + Environment.NewLine
        + "Install the GroupedGemm.Net NuGet package (it carries runtimes/linux-x64/native/libgroupedgemm.so), "
        + "or build it from the repository with `dotnet cake --target=Native` (CMake; writes artifacts/native/), "
        + "or set GROUPEDGEMM_NATIVE_PATH to the library file or the folder holding it.";
}
