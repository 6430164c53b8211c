using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GroupedGemm.Interop;

/// <summary>
/// Finds and loads libgroupedgemm.so for the <c>"groupedgemm"</c> imports of this assembly, checks its ABI
/// version, and turns every way that can fail into an exception that says what to do.
/// </summary>
/// <remarks>
/// Search order: <c>GROUPEDGEMM_NATIVE_PATH</c> (a file or a folder; when set, nothing else is tried, so a
/// wrong setting is reported rather than silently bypassed); the app's <c>runtimes/linux-x64/native</c>
/// (NuGet layout) and base folder; <c>artifacts/native</c> of the source tree found by walking up from the
/// base folder to the folder holding <c>GroupedGemm.Net.sln</c> (development); the system loader path.
/// </remarks>
internal static partial class NativeLibraryLoader
{
    /// <summary>The library name the imports use.</summary>
    internal const string LibraryName = "groupedgemm";

    /// <summary>The file name CMake and the NuGet package use.</summary>
    internal const string FileName = "libgroupedgemm.so";

    /// <summary>Environment variable that names the library file or its folder.</summary>
    internal const string PathVariable = "GROUPEDGEMM_NATIVE_PATH";

    private const string SolutionFileName = "GroupedGemm.Net.sln";
    private const string SystemSearchLabel = FileName + " (system loader search path)";

    private static readonly object Gate = new();
    private static nint s_handle;

    /// <summary>Registers the resolver as soon as the assembly loads, before any import can run.</summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The DllImport resolver must be in place before the first P/Invoke of this assembly.")]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    /// <summary>Loads the library once per process (retrying after failures) and returns its handle.</summary>
    /// <returns>The native library handle.</returns>
    /// <exception cref="NativeLibraryNotFoundException">No candidate path holds the library.</exception>
    /// <exception cref="NativeLibraryLoadException">A candidate exists but is not a usable GroupedGemm library.</exception>
    /// <exception cref="CudaUnavailableException">The library needs a CUDA library that is not installed.</exception>
    internal static nint EnsureLoaded()
    {
        nint handle = Volatile.Read(ref s_handle);
        if (handle != 0) return handle;
        lock (Gate)
        {
            if (s_handle == 0)
            {
                string? overridePath = Environment.GetEnvironmentVariable(PathVariable);
                Volatile.Write(ref s_handle, Load(CandidatePaths(overridePath, AppContext.BaseDirectory)));
            }

            return s_handle;
        }
    }

    /// <summary>The paths to try, in order. Pure: reads nothing but the file system's folder structure.</summary>
    /// <param name="overridePath">Value of <c>GROUPEDGEMM_NATIVE_PATH</c>, or null/empty when unset.</param>
    /// <param name="baseDirectory">The application's base folder.</param>
    /// <returns>Absolute paths, and finally the bare file name for the system search.</returns>
    internal static IReadOnlyList<string> CandidatePaths(string? overridePath, string baseDirectory)
    {
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            string full = Path.GetFullPath(overridePath);
            return [Directory.Exists(full) ? Path.Combine(full, FileName) : full];
        }

        var paths = new List<string>
        {
            Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", FileName),
            Path.Combine(baseDirectory, FileName),
        };
        string? sourceRoot = FindSourceRoot(baseDirectory);
        if (sourceRoot is not null) paths.Add(Path.Combine(sourceRoot, "artifacts", "native", FileName));
        paths.Add(SystemSearchLabel);
        return paths;
    }

    /// <summary>Loads the first candidate that exists and checks that it is the right GroupedGemm library.</summary>
    /// <param name="candidates">Paths from <see cref="CandidatePaths"/>.</param>
    /// <returns>The loaded library's handle.</returns>
    internal static nint Load(IReadOnlyList<string> candidates)
    {
        foreach (string candidate in candidates)
        {
            bool systemSearch = candidate == SystemSearchLabel;
            if (!systemSearch && !File.Exists(candidate)) continue;

            nint handle;
            try
            {
                handle = NativeLibrary.Load(systemSearch ? FileName : candidate);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                string? missing = MissingDependency(e.Message);
                if (systemSearch && (missing is null || missing.StartsWith(FileName, StringComparison.Ordinal)))
                    continue; // not on the loader path either
                if (missing is not null && DescribeCudaLibrary(missing) is { } advice)
                {
                    throw new CudaUnavailableException(
                        $"The GroupedGemm native library at {candidate} needs {missing}, which is not installed " +
                        $"or not on the loader path: install {advice}. Loader message: {e.Message}",
                        missingLibrary: missing, innerException: e);
                }

                throw new NativeLibraryLoadException(candidate,
                    $"{candidate} exists but could not be loaded as the GroupedGemm native library " +
                    $"(a shared library for linux-x64 is expected; rebuild it with `dotnet cake --target=Native` " +
                    $"or reinstall the GroupedGemm.Net package). Loader message: {e.Message}", e);
            }

            CheckAbi(handle, systemSearch ? FileName : candidate);
            return handle;
        }

        throw new NativeLibraryNotFoundException(candidates);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == LibraryName ? EnsureLoaded() : 0;

    private static unsafe void CheckAbi(nint handle, string path)
    {
        if (!NativeLibrary.TryGetExport(handle, "gg_abi_version", out nint export))
        {
            NativeLibrary.Free(handle);
            throw new NativeLibraryLoadException(path,
                $"{path} was loaded but exports no gg_abi_version: it is not the GroupedGemm native library.");
        }

        int version = ((delegate* unmanaged<int>)export)();
        if (version != NativeMethods.GG_ABI_VERSION)
        {
            NativeLibrary.Free(handle);
            throw new NativeLibraryLoadException(path,
                $"{path} has ABI version {version} but this GroupedGemm.Net assembly needs ABI version " +
                $"{NativeMethods.GG_ABI_VERSION}: use the native library of the same release " +
                "(the NuGet package carries a matching one, or rebuild with `dotnet cake --target=Native`).");
        }
    }

    private static string? FindSourceRoot(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName))) return dir.FullName;
        }

        return null;
    }

    /// <summary>The shared object the dynamic loader could not open, from its message ("libx.so.1: cannot open ...").</summary>
    /// <param name="loaderMessage">The loader's exception message.</param>
    /// <returns>The file name, or null when the message names none.</returns>
    internal static string? MissingDependency(string loaderMessage)
    {
        Match match = MissingLibraryPattern().Match(loaderMessage);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>What to install for a missing CUDA library, or null when it is not a CUDA library.</summary>
    /// <param name="fileName">A shared object file name such as <c>libcublas.so.12</c>.</param>
    /// <returns>Installation advice, or null.</returns>
    internal static string? DescribeCudaLibrary(string fileName)
    {
        if (fileName.StartsWith("libcuda.so", StringComparison.Ordinal))
            return "the NVIDIA CUDA driver (libcuda.so.1 ships with the driver; `nvidia-smi` should list a GPU). " +
                   "GroupedGemm needs an NVIDIA GPU with its driver";
        if (fileName.StartsWith("libcudart", StringComparison.Ordinal))
            return "the CUDA runtime of the CUDA toolkit the library was built with (the CUDA toolkit, or its " +
                   "cuda-cudart runtime package), and put it on LD_LIBRARY_PATH if it is not in a system folder";
        if (fileName.StartsWith("libcublas", StringComparison.Ordinal))
            return "cuBLAS of the CUDA toolkit the library was built with (the CUDA toolkit, or its libcublas " +
                   "runtime package), and put it on LD_LIBRARY_PATH if it is not in a system folder";
        return null;
    }

    [GeneratedRegex(@"([A-Za-z0-9_+.\-]+\.so[0-9.]*): cannot open shared object file")]
    private static partial Regex MissingLibraryPattern();
}
