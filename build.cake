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
        var exit = Run("dotnet", $"test --solution \"{solution}\" -c {configuration} --results-directory \"{results}\" --report-trx");
        var (passed, failed, skipped) = SummariseTrx(results);
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

// Packs GroupedGemm.Net (with the native runtime) and runs tests/package/consume.sh against it: true when it passes.
bool PackAndConsume()
{
    if (!FileExists($"{nativeOut}/libgroupedgemm.so"))
        throw new Exception($"{nativeOut}/libgroupedgemm.so is missing: the package must carry the native runtime (run on a machine with nvcc)");
    CleanDirectory(packagesOut);
    RunOrThrow("dotnet", $"pack src/GroupedGemm.Net/GroupedGemm.Net.csproj -c {configuration} -o \"{packagesOut}\" -p:ContinuousIntegrationBuild=true");
    var exit = Run("bash", $"\"{root}/tests/package/consume.sh\" \"{packagesOut}\"");
    if (exit != 0) Error($"package consumer test failed (exit {exit})");
    else Information("package consumer test passed");
    return exit == 0;
}

Task("Pack")
    .Description("NuGet package GroupedGemm.Net (+ symbols) with the native runtime, into artifacts/packages; then a consumer smoke test")
    .IsDependentOn("NativeIfPossible")
    .Does(() =>
    {
        if (!PackAndConsume()) throw new Exception("package consumer test failed");
    });

// ---------------------------------------------------------------- GPU host

Task("GpuBundle")
    .Description("Self-contained linux-x64 publish of the test runner, the MoE sample and the benchmark, plus the scripts that run them on a GPU host without .NET (into .gpu/)")
    .Does(() =>
    {
        var bundle = $"{root}/.gpu";
        CleanDirectory(bundle);
        // One folder for all three: they share the runtime files, which keeps the bundle small enough to ship.
        foreach (var project in new[] {
            "tests/GroupedGemm.Net.Tests/GroupedGemm.Net.Tests.csproj",
            "samples/GroupedGemm.MoE/GroupedGemm.MoE.csproj",
            "bench/GroupedGemm.Bench/GroupedGemm.Bench.csproj" })
        {
            RunOrThrow("dotnet", $"publish {project} -c {configuration} -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none -o \"{bundle}\"");
        }
        RunOrThrow("tar", $"-C \"{root}\" -cJf \"{root}/.gpu.tar.xz\" .gpu");
        Information($"GPU bundle: {root}/.gpu.tar.xz; on the GPU host, in a checkout: bash scripts/gpu-host.sh all");
    });

Task("Bench")
    .Description("On a GPU host: builds the native library and runs the benchmark from the GPU bundle (bash .gpu/gpu-host.sh bench)")
    .Does(() => RunOrThrow("bash", $"\"{root}/scripts/gpu-host.sh\" bench"));

Task("Default").IsDependentOn("Test");

RunTarget(target);
