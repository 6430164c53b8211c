using System.Reflection;
using System.Runtime.InteropServices;

namespace GroupedGemm.Bindings.Clang;

/// <summary>
/// Finds libclang from the NuGet package libclang.runtime.&lt;rid&gt;. The build copies the package's
/// runtimes/&lt;rid&gt;/native/libclang.so next to the generator (the project sets a RuntimeIdentifier), so the
/// output folder is the first place to look; an explicit path (--libclang) wins over everything.
/// </summary>
internal static class LibClangResolver
{
    private static string? explicitPath;

    /// <summary>Installs the resolver for this assembly's <c>libclang</c> imports.</summary>
    /// <param name="overridePath">A libclang shared library to use instead of the packaged one, or null.</param>
    public static void Install(string? overridePath)
    {
        explicitPath = overridePath;
        NativeLibrary.SetDllImportResolver(typeof(LibClangResolver).Assembly, Resolve);
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibClang.LibraryName)
        {
            return 0;
        }

        var tried = new List<string>();
        foreach (string candidate in Candidates())
        {
            tried.Add(candidate);
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out nint handle))
            {
                return handle;
            }
        }

        throw new DllNotFoundException(
            "libclang was not found. It comes from the NuGet package libclang.runtime." + RuntimeInformation.RuntimeIdentifier +
            " (run `dotnet restore bindings/GroupedGemm.Bindings`), or pass --libclang <path>. Tried: " + string.Join(", ", tried));
    }

    private static IEnumerable<string> Candidates()
    {
        if (explicitPath is not null)
        {
            yield return Path.GetFullPath(explicitPath);
            yield break;
        }

        string fileName = OperatingSystem.IsWindows() ? "libclang.dll"
            : OperatingSystem.IsMacOS() ? "libclang.dylib"
            : "libclang.so";
        string baseDir = AppContext.BaseDirectory;
        yield return Path.Combine(baseDir, fileName);
        yield return Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", fileName);
    }
}
