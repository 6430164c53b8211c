// Build script: `dotnet tool restore && dotnet cake --target=<Target>`.
// Native targets build libgroupedgemm.so with CMake; the rest drive dotnet.
// Each target prints what it does and throws (non-zero exit) on failure.

using System.Text.RegularExpressions;
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
// Architectures for the fat library (`Native`), as CMake/nvcc spell them.
var cudaArchitectures = Argument("cuda-architectures", EnvironmentVariable("GG_CUDA_ARCHITECTURES") ?? "80;90a");
var cutlassDir = Argument("cutlass-dir", EnvironmentVariable("CUTLASS_DIR") ?? "");
var jobs = Argument("jobs", Environment.ProcessorCount);
// The native library Pack puts into the package (default: the local build, artifacts/native/libgroupedgemm.so). A
// release passes the library built on the GPU host (scripts/gpu-host.sh release).
var nativeLibArgument = Argument("native-lib", "");

var root = MakeAbsolute(Directory(".")).FullPath;
var artifacts = $"{root}/artifacts";
var nativeOut = $"{artifacts}/native";
var packagesOut = $"{artifacts}/packages";
var solution = $"{root}/GroupedGemm.Net.sln";

// ---------------------------------------------------------------- helpers

string FindNvcc()
{
    var fromEnv = EnvironmentVariable("CUDACXX");
    if (!string.IsNullOrEmpty(fromEnv) && System.IO.File.Exists(fromEnv)) return fromEnv;
    var candidates = new[] { "/usr/local/cuda/bin/nvcc", "/usr/bin/nvcc" };
    foreach (var c in candidates) if (System.IO.File.Exists(c)) return c;
    foreach (var dir in (EnvironmentVariable("PATH") ?? "").Split(':'))
    {
        var p = System.IO.Path.Combine(dir, "nvcc");
        if (System.IO.File.Exists(p)) return p;
    }
    return null;
}

int Run(string file, string args, string workingDirectory = null)
{
    Information($"$ {file} {args}");
    var exit = StartProcess(file, new ProcessSettings { Arguments = args, WorkingDirectory = workingDirectory ?? root });
    return exit;
}

void RunOrThrow(string file, string args, string workingDirectory = null)
{
    var exit = Run(file, args, workingDirectory);
    if (exit != 0) throw new Exception($"'{file} {args}' failed with exit code {exit}");
}

void BuildNative(string archs, string outputDir, string buildDir)
{
    // The recipe lives in scripts/build-native.sh so that GPU hosts without .NET run the same one.
    Information($"Native build: architectures {archs}, CUTLASS {(string.IsNullOrEmpty(cutlassDir) ? "not given (CUTLASS backends left out)" : cutlassDir)}, output {outputDir}");
    var env = new Dictionary<string, string> { ["JOBS"] = jobs.ToString() };
    if (!string.IsNullOrEmpty(cutlassDir)) env["CUTLASS_DIR"] = MakeAbsolute(Directory(cutlassDir)).FullPath;
    Information($"$ scripts/build-native.sh \"{archs}\" {outputDir} {buildDir}");
    var exit = StartProcess("bash", new ProcessSettings {
        Arguments = $"\"{root}/scripts/build-native.sh\" \"{archs}\" \"{outputDir}\" \"{buildDir}\"",
        WorkingDirectory = root, EnvironmentVariables = env });
    if (exit != 0) throw new Exception($"Native build for {archs} failed (exit {exit})");
}

// Parses TRX files written by Microsoft.Testing.Platform and prints the totals line CI reads.
(int passed, int failed, int skipped) SummariseTrx(string directory)
{
    int passed = 0, failed = 0, skipped = 0;
    foreach (var trx in GetFiles($"{directory}/**/*.trx"))
    {
        var doc = XDocument.Load(trx.FullPath);
        var counters = doc.Descendants().FirstOrDefault(e => e.Name.LocalName == "Counters");
        if (counters == null) continue;
        int Attr(string n) => int.TryParse(counters.Attribute(n)?.Value, out var v) ? v : 0;
        passed += Attr("passed");
        failed += Attr("failed") + Attr("error") + Attr("timeout") + Attr("aborted");
        skipped += Attr("notExecuted") + Attr("inconclusive");
    }
    return (passed, failed, skipped);
}

// Totals of a JUnit report written by ctest --output-junit (absent file: nothing ran).
(int passed, int failed, int skipped) SummariseJUnit(string file)
{
    if (!FileExists(file)) return (0, 0, 0);
    int passed = 0, failed = 0, skipped = 0;
    foreach (var suite in XDocument.Load(file).Descendants().Where(e => e.Name.LocalName == "testsuite"))
    {
        int Attr(string n) => int.TryParse(suite.Attribute(n)?.Value, out var v) ? v : 0;
        var notRun = Attr("skipped") + Attr("disabled");
        var bad = Attr("failures") + Attr("errors");
        failed += bad;
        skipped += notRun;
        passed += Attr("tests") - bad - notRun;
    }
    return (passed, failed, skipped);
}

// ---------------------------------------------------------------- native

Task("Native")
    .Description("libgroupedgemm.so for every architecture in --cuda-architectures (default 80;90a) into artifacts/native")
    .Does(() => BuildNative(cudaArchitectures, nativeOut, $"{root}/build/native"));

Task("Native-sm80")
    .Description("libgroupedgemm.so for compute capability 8.0 only, into artifacts/native/sm80")
    .Does(() => BuildNative("80", $"{nativeOut}/sm80", $"{root}/build/native-sm80"));

Task("Native-sm90")
    .Description("libgroupedgemm.so for compute capability 9.0a only (Hopper kernels need CUDA >= 12.3), into artifacts/native/sm90")
    .Does(() => BuildNative("90a", $"{nativeOut}/sm90", $"{root}/build/native-sm90"));

// ---------------------------------------------------------------- bindings

Task("Bindings")
    .Description("Regenerates src/GroupedGemm.Net/Interop/NativeMethods.g.cs from the C header")
    .Does(() => RunOrThrow("dotnet", $"run --project bindings/GroupedGemm.Bindings -c {configuration} -- generate"));

Task("VerifyBindings")
    .Description("Fails when NativeMethods.g.cs does not match the C header")
    .Does(() => RunOrThrow("dotnet", $"run --project bindings/GroupedGemm.Bindings -c {configuration} -- verify"));

// ---------------------------------------------------------------- managed

Task("Build")
    .Description("Builds the solution")
    .Does(() => RunOrThrow("dotnet", $"build \"{solution}\" -c {configuration}"));

Task("NativeIfPossible")
    .Description("Builds the native library when a CUDA compiler exists; otherwise says why GPU tests will be skipped")
    .Does(() =>
    {
        if (!string.IsNullOrEmpty(nativeLibArgument))
        {
            Information($"--native-lib={nativeLibArgument}: that library is packed; no local native build");
            return;
        }
        if (FindNvcc() == null)
        {
            Warning("No CUDA compiler found: the native library is not built and the tests that need it are skipped (with that reason).");
            return;
        }
        BuildNative(cudaArchitectures, nativeOut, $"{root}/build/native");
    });

Task("Test")
    .Description("Verifies the bindings, builds the native library (if nvcc exists) and runs the whole test suite")
    .IsDependentOn("VerifyBindings")
    .IsDependentOn("NativeIfPossible")
    .Does(() =>
    {
        var results = $"{artifacts}/test-results";
        CleanDirectory(results);
        // The TorchSharp adapter's tests are built with the solution but run on their own (GG_TORCH_TESTS_SEPARATELY):
        // libtorch needs a newer libstdc++ than Debian 12's, so scripts/torchsharp-tests.sh runs them in a Debian 13
        // userland, or skips each with the reason where that userland cannot be made. Their TRX lands in results too.
        var separately = new Dictionary<string, string> { ["GG_TORCH_TESTS_SEPARATELY"] = "1" };
        Information($"$ GG_TORCH_TESTS_SEPARATELY=1 dotnet test --solution {solution} ...");
        var exit = StartProcess("dotnet", new ProcessSettings {
            Arguments = $"test --solution \"{solution}\" -c {configuration} --results-directory \"{results}\" --report-trx",
            WorkingDirectory = root, EnvironmentVariables = separately });
        // dotnet test builds test projects only, so this one is built here (with the same properties).
        var torchResults = $"{results}/torchsharp";
        var torchProject = $"{root}/tests/GroupedGemm.Net.TorchSharp.Tests/GroupedGemm.Net.TorchSharp.Tests.csproj";
        Information($"$ GG_TORCH_TESTS_SEPARATELY=1 dotnet build {torchProject} -c {configuration}");
        var torchExit = StartProcess("dotnet", new ProcessSettings {
            Arguments = $"build \"{torchProject}\" -c {configuration}", WorkingDirectory = root, EnvironmentVariables = separately });
        // The TorchSharp MoE sample too: no test project references it, so nothing else would compile it here.
        if (torchExit == 0) torchExit = Run("dotnet", $"build \"{root}/samples/GroupedGemm.TorchSharp.MoE/GroupedGemm.TorchSharp.MoE.csproj\" -c {configuration}");
        if (torchExit == 0) torchExit = Run("bash", $"\"{root}/scripts/torchsharp-tests.sh\" \"{torchResults}\" {configuration}");
        var (passed, failed, skipped) = SummariseTrx(results);
        // A failed build, or a run that wrote no TRX: count it, for the solution's run as for the TorchSharp one, so
        // that the totals line never reads "0 failed" for a run that failed. Exit 8 is "no test ran" (all skipped).
        if (exit != 0 && exit != 8 && failed == 0) failed++;
        if (torchExit != 0 && torchExit != 8 && SummariseTrx(torchResults).failed == 0) failed++;
        // The native tests (C smoke test, no-driver test, validation, tile choice): ctest over the native build.
        if (DirectoryExists($"{root}/build/native"))
        {
            var junit = $"{results}/native-ctest.xml";
            var ctestExit = Run("ctest", $"--test-dir \"{root}/build/native\" --output-on-failure --output-junit \"{junit}\"");
            var (p, f, s) = SummariseJUnit(junit);
            passed += p; failed += f; skipped += s;
            if (ctestExit != 0 && f == 0) failed++;  // ctest itself failed (no report): count it
        }
        else
        {
            Warning("native tests skipped: no native build (no CUDA compiler)");
        }
        // The package test: pack with the native runtime, restore it into a fresh consumer, call the API.
        if (FileExists($"{nativeOut}/libgroupedgemm.so"))
        {
            if (PackAndConsume()) passed++; else failed++;
        }
        else
        {
            Warning("package consumer test skipped: no native library was built (no CUDA compiler)");
            skipped++;
        }
        // Plain text (no log colouring): CI reads this line.
        Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
        if (exit != 0 || failed > 0) throw new Exception($"Tests failed (exit {exit}, {failed} failed)");
        if (passed == 0) throw new Exception("No test ran");
    });

// ---------------------------------------------------------------- package

string NativeLibraryToPack() =>
    MakeAbsolute(File(string.IsNullOrEmpty(nativeLibArgument) ? $"{nativeOut}/libgroupedgemm.so" : nativeLibArgument)).FullPath;

// The build line the library carries (native/src/api/build_manifest.cpp), read from the file without loading it:
// version, cuda, nvcc, architectures, backends, sm90-kernels, min-driver, cublas.
Dictionary<string, string> ReadBuildManifest(string library)
{
    const string marker = "groupedgemm-build:";
    var text = System.Text.Encoding.Latin1.GetString(System.IO.File.ReadAllBytes(library));
    int start = text.IndexOf(marker, StringComparison.Ordinal);
    int end = start < 0 ? -1 : text.IndexOf(";end", start, StringComparison.Ordinal);
    if (start < 0 || end < 0)
        throw new Exception($"{library} carries no build manifest ('{marker}...'): not a libgroupedgemm.so of this version");
    return text.Substring(start + marker.Length, end - start - marker.Length).Split(';')
        .Select(field => field.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
}

// Why a library is no release ("" for a release): a release carries both CUTLASS backends, SASS for sm_80 and sm_90a
// and exactly the sm90 kernels Auto chooses. Anything else is packed with a prerelease version.
string PrereleaseReason(Dictionary<string, string> manifest)
{
    var backends = manifest["backends"].Split(',');
    var archs = manifest["architectures"].Split(',').Select(a => a.Replace("-real", "")).ToArray();
    if (!backends.Contains("cutlass-sm80") || !backends.Contains("cutlass-sm90")) return "nocutlass";
    if (manifest["sm90-kernels"] != "release") return manifest["sm90-kernels"];
    if (!archs.Contains("80") || !archs.Contains("90a")) return "partialarch";
    return "";
}

// What the package says about its native library: the description's last sentence and a README section.
string NativeDescription(Dictionary<string, string> m) =>
    $"Native library: CUDA {m["cuda"]} (nvcc {m["nvcc"]}), architectures {m["architectures"]} " +
    $"(SASS for each; PTX for the plain ones, which newer GPUs compile at load), backends {m["backends"]}, " +
    $"sm90 kernels: {m["sm90-kernels"]}; needs an NVIDIA driver >= {m["min-driver"]}; cuBLAS {m["cublas"]}, " +
    "for the cuBLAS backends and dense Gemm only.";

// The repository's README with its release-status block (between the release-status markers) replaced by what is true
// of the package: the repository's block is written after a release run, so the package packed in that run would
// carry the release before it as "the current release" (0.15.0's said 0.14.0).
string PackageReadme(string version, string reason)
{
    var readme = System.IO.File.ReadAllText($"{root}/README.md");
    var block = System.Text.RegularExpressions.Regex.Match(readme,
        @"<!-- release-status\b[^>]*-->.*?<!-- /release-status -->", System.Text.RegularExpressions.RegexOptions.Singleline);
    if (!block.Success)
        throw new Exception("README.md has no release-status block (<!-- release-status ... --> to <!-- /release-status -->): the package's README replaces it with its own version");
    var own = reason == ""
        ? $"This package is release {version}. What its library was checked with, on which card, and the releases " +
          $"before it: the repository's `docs/release.md`, \"The {version} run\"."
        : $"This package is the prerelease {version}: its library is no release build ({reason}), and no release run " +
          "checked it (the repository's `docs/release.md` says what a release is checked with).";
    return readme.Substring(0, block.Index) + own + readme.Substring(block.Index + block.Length);
}

// Packs GroupedGemm.Net with the native library NativeLibraryToPack() into artifacts/packages and runs
// tests/package/consume.sh against it: true when it passes. The version is the project's for a release library, a
// prerelease (0.2.0-dev.nocutlass, ...) for anything else, so that a CPU-machine or CI build never passes for one.
bool PackAndConsume()
{
    var library = NativeLibraryToPack();
    if (!FileExists(library))
        throw new Exception($"{library} is missing: the package must carry the native runtime (build it on a machine with nvcc, or pass --native-lib=PATH)");
    var manifest = ReadBuildManifest(library);
    var projectVersion = XDocument.Load($"{root}/Directory.Build.props").Descendants("Version").First().Value;
    if (manifest["version"] != projectVersion)
        throw new Exception($"{library} is version {manifest["version"]}, the managed package {projectVersion}: build the native library from this tree");
    var reason = PrereleaseReason(manifest);
    var version = reason == "" ? projectVersion : $"{projectVersion}-dev.{reason}";
    Information($"Packing {library} as GroupedGemm.Net {version}: {string.Join("; ", manifest.Select(kv => kv.Key + "=" + kv.Value))}");
    if (reason != "") Warning($"prerelease package ({reason}): this library is no release build");

    // The package's own README (the repository's, after a section on the native library) and its description.
    var staging = $"{artifacts}/pack";
    CleanDirectory(staging);
    CopyFile(library, $"{staging}/libgroupedgemm.so");
    var section = "## The native library in this package\n\n" +
        $"| | |\n| --- | --- |\n| version | {version}{(reason == "" ? "" : $" (prerelease: {reason})")} |\n" +
        $"| CUDA build | {manifest["cuda"]} (nvcc {manifest["nvcc"]}), runtime linked statically |\n" +
        $"| architectures | {manifest["architectures"]} |\n| backends | {manifest["backends"]} |\n" +
        $"| sm90 kernels | {manifest["sm90-kernels"]} |\n| minimum NVIDIA driver | {manifest["min-driver"]} |\n" +
        $"| cuBLAS | {manifest["cublas"]} |\n\n";
    System.IO.File.WriteAllText($"{staging}/README.md", section + PackageReadme(version, reason));
    var description = XDocument.Load($"{root}/src/GroupedGemm.Net/GroupedGemm.Net.csproj").Descendants("Description").First().Value;
    new XDocument(new XElement("Project", new XElement("PropertyGroup",
        new XElement("Description", description + " " + NativeDescription(manifest)),
        new XElement("PackageVersion", version)))).Save($"{staging}/package.props");

    CleanDirectory(packagesOut);
    RunOrThrow("dotnet", $"pack src/GroupedGemm.Net/GroupedGemm.Net.csproj -c {configuration} -o \"{packagesOut}\" " +
        $"-p:ContinuousIntegrationBuild=true -p:GgPackageProps=\"{staging}/package.props\" " +
        $"-p:GgNativeLibrary=\"{staging}/libgroupedgemm.so\" -p:GgPackageReadme=\"{staging}/README.md\"");
    Information($"package: {packagesOut}/GroupedGemm.Net.{version}.nupkg");
    var exit = Run("bash", $"\"{root}/tests/package/consume.sh\" \"{packagesOut}\"");
    if (exit != 0) Error($"package consumer test failed (exit {exit})");
    else Information("package consumer test passed");
    return exit == 0;
}

Task("Pack")
    .Description("NuGet package GroupedGemm.Net (+ symbols) with the native library --native-lib=PATH (default: the local build), into artifacts/packages; prerelease version unless it is a release library; then a consumer smoke test")
    .IsDependentOn("NativeIfPossible")
    .Does(() =>
    {
        if (!PackAndConsume()) throw new Exception("package consumer test failed");
    });

// ---------------------------------------------------------------- GPU host

Task("GpuBundle")
    .Description("Self-contained linux-x64 publish of the test runners, the MoE samples (the TorchSharp one without libtorch) and the benchmark, plus the scripts that run them on a GPU host without .NET (into .gpu/)")
    .Does(() =>
    {
        var bundle = $"{root}/.gpu";
        CleanDirectory(bundle);
        // One folder for all three: they share the runtime files, which keeps the bundle small enough to ship.
        foreach (var project in new[] {
            "tests/GroupedGemm.Net.Tests/GroupedGemm.Net.Tests.csproj",
            "samples/GroupedGemm.MoE/GroupedGemm.MoE.csproj",
            "samples/GroupedGemm.Interop.Ilgpu/GroupedGemm.Interop.Ilgpu.csproj",
            "bench/GroupedGemm.Bench/GroupedGemm.Bench.csproj" })
        {
            RunOrThrow("dotnet", $"publish {project} -c {configuration} -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none -o \"{bundle}\"");
        }
        // The TorchSharp adapter's tests and MoE sample, in the same folder (shared runtime files), without libtorch:
        // on the GPU host they load PyTorch's CUDA libtorch from LD_LIBRARY_PATH (scripts/gpu-host.sh torchsharp);
        // TorchSharp's own libLibTorchSharp.so comes with the TorchSharp package.
        foreach (var project in new[] {
            "tests/GroupedGemm.Net.TorchSharp.Tests/GroupedGemm.Net.TorchSharp.Tests.csproj",
            "samples/GroupedGemm.TorchSharp.MoE/GroupedGemm.TorchSharp.MoE.csproj" })
        {
            RunOrThrow("dotnet", $"publish {project} -c {configuration} -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none -p:GgNoLibTorch=true -o \"{bundle}\"");
        }
        if (!FileExists($"{bundle}/libLibTorchSharp.so")) throw new Exception("the GPU bundle lacks TorchSharp's libLibTorchSharp.so");
        if (GetFiles($"{bundle}/libtorch*.so").Count > 0 || FileExists($"{bundle}/libc10.so"))
            throw new Exception("the GPU bundle carries a libtorch; the GPU host's own must be used");
        // The release check's consumer: the package (of --native-lib, or the local build) restored into a fresh
        // project and published self-contained, as a user ships it (scripts/gpu-host.sh release-check runs it).
        if (FileExists(NativeLibraryToPack()))
        {
            if (!PackAndConsume()) throw new Exception("package consumer test failed");
            RunOrThrow("bash", $"\"{root}/tests/package/publish-consumer.sh\" \"{packagesOut}\" \"{bundle}/consumer\"");
            // Its runtime files are the bundle's: hard links, so that the archive holds them once.
            RunOrThrow("bash", $"\"{root}/scripts/hardlink-duplicates.sh\" \"{bundle}/consumer\" \"{bundle}\"");
        }
        else
        {
            Warning($"no native library to pack ({NativeLibraryToPack()}): the bundle has no release consumer");
        }
        RunOrThrow("tar", $"-C \"{root}\" -cJf \"{root}/.gpu.tar.xz\" .gpu");
        Information($"GPU bundle: {root}/.gpu.tar.xz; on the GPU host, in a checkout: bash scripts/gpu-host.sh all");
    });

Task("Bench")
    .Description("On a GPU host: builds the native library and runs the benchmark from the GPU bundle (bash .gpu/gpu-host.sh bench)")
    .Does(() => RunOrThrow("bash", $"\"{root}/scripts/gpu-host.sh\" bench"));

Task("Default").IsDependentOn("Test");

RunTarget(target);
