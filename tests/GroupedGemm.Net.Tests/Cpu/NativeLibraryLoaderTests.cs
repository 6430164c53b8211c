using System.Diagnostics;
using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>How the native library is found, and what a user sees when it cannot be used.</summary>
[TestFixture]
public class NativeLibraryLoaderTests
{
    private string _folder = string.Empty;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "gg-loader-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void Override_path_is_the_only_candidate_file_or_folder()
    {
        string file = Path.Combine(_folder, "custom.so");
        Assert.That(NativeLibraryLoader.CandidatePaths(file, AppContext.BaseDirectory), Is.EqualTo(new[] { file }));
        Assert.That(NativeLibraryLoader.CandidatePaths(_folder, AppContext.BaseDirectory),
            Is.EqualTo(new[] { Path.Combine(_folder, "libgroupedgemm.so") }));
    }

    [Test]
    public void Default_search_is_nuget_layout_then_app_folder_then_source_tree_then_system()
    {
        string baseDir = AppContext.BaseDirectory;
        IReadOnlyList<string> paths = NativeLibraryLoader.CandidatePaths(null, baseDir);
        Assert.That(paths[0], Is.EqualTo(Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libgroupedgemm.so")));
        Assert.That(paths[1], Is.EqualTo(Path.Combine(baseDir, "libgroupedgemm.so")));
        Assert.That(paths[^1], Does.Contain("system loader search path"));

        // The tests run from the source tree (bin/ under tests/), so the CMake output folder is a candidate.
        string? root = FindUp(baseDir, "GroupedGemm.Net.sln");
        if (root is null) Assert.Ignore("tests are not running inside the source tree");
        Assert.That(paths, Does.Contain(Path.Combine(root, "artifacts", "native", "libgroupedgemm.so")));
    }

    [Test]
    public void A_missing_override_file_is_reported_by_name_with_how_to_build()
    {
        // What GROUPEDGEMM_NATIVE_PATH=/.../nothing-here.so resolves to.
        string missing = Path.Combine(_folder, "nothing-here.so");
        var e = Assert.Throws<NativeLibraryNotFoundException>(
            () => NativeLibraryLoader.Load(NativeLibraryLoader.CandidatePaths(missing, AppContext.BaseDirectory)));
        Assert.That(e!.SearchedPaths, Is.EqualTo(new[] { missing }));
        Assert.That(e.Message, Does.Contain(missing));
        Assert.That(e.Message, Does.Contain("dotnet cake --target=Native"));
        Assert.That(e.Message, Does.Contain("GroupedGemm.Net NuGet package"));
    }

    [Test]
    public void A_file_that_is_not_a_shared_library_gives_a_clear_error()
    {
        string bogus = Path.Combine(_folder, "libgroupedgemm.so");
        File.WriteAllText(bogus, "this is not an ELF file");
        var e = Assert.Throws<NativeLibraryLoadException>(() => NativeLibraryLoader.Load(NativeLibraryLoader.CandidatePaths(_folder, "/")));
        Assert.That(e!.LibraryPath, Is.EqualTo(bogus));
        Assert.That(e.Message, Does.Contain(bogus).And.Contain("could not be loaded"));
    }

    [Test]
    public void A_shared_library_that_is_not_groupedgemm_is_refused()
    {
        string? libm = new[] { "/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6" }
            .FirstOrDefault(File.Exists);
        if (libm is null) Assert.Ignore("no libm.so.6 at the usual places");
        var e = Assert.Throws<NativeLibraryLoadException>(() => NativeLibraryLoader.Load([libm]));
        Assert.That(e!.Message, Does.Contain("exports no gg_abi_version"));
    }

    [Test]
    public void A_missing_cuda_dependency_names_the_library_and_what_to_install()
    {
        // A real loader failure: a library linked against libcublas.so.99, which exists only while linking.
        string? cc = new[] { "/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang" }.FirstOrDefault(File.Exists);
        if (cc is null) Assert.Ignore("no C compiler to build the stub libraries");
        string source = Path.Combine(_folder, "stub.c");
        File.WriteAllText(source, "int gg_stub(void) { return 1; }\n");
        string cublas = Path.Combine(_folder, "libcublas.so.99");
        Run(cc, $"-shared -fPIC -o {cublas} -Wl,-soname,libcublas.so.99 {source}");
        string dependent = Path.Combine(_folder, "libgroupedgemm.so");
        Run(cc, $"-shared -fPIC -o {dependent} {source} -Wl,--no-as-needed {cublas}");
        File.Delete(cublas);

        var e = Assert.Throws<CudaUnavailableException>(() => NativeLibraryLoader.Load([dependent]));
        Assert.That(e!.MissingLibrary, Is.EqualTo("libcublas.so.99"));
        Assert.That(e.Message, Does.Contain("libcublas.so.99").And.Contain("cuBLAS of the CUDA toolkit"));
    }

    [Test]
    public void Loader_messages_are_parsed_for_the_missing_library()
    {
        Assert.That(NativeLibraryLoader.MissingDependency(
            "Unable to load shared library '/x/libgroupedgemm.so' or one of its dependencies: libcudart.so.12: cannot open shared object file: No such file or directory"),
            Is.EqualTo("libcudart.so.12"));
        Assert.That(NativeLibraryLoader.MissingDependency("invalid ELF header"), Is.Null);
        Assert.That(NativeLibraryLoader.DescribeCudaLibrary("libcuda.so.1"), Does.Contain("NVIDIA CUDA driver"));
        Assert.That(NativeLibraryLoader.DescribeCudaLibrary("libcudart.so.13"), Does.Contain("CUDA runtime"));
        Assert.That(NativeLibraryLoader.DescribeCudaLibrary("libcublasLt.so.13"), Does.Contain("cuBLAS"));
        Assert.That(NativeLibraryLoader.DescribeCudaLibrary("libstdc++.so.6"), Is.Null);
    }

    private static string? FindUp(string start, string file)
    {
        for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, file))) return d.FullName;
        }

        return null;
    }

    private static void Run(string exe, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(exe, arguments) { RedirectStandardError = true })!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) Assert.Ignore($"could not build a stub library: {errors}");
    }
}
