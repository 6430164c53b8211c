using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>The GPU tests' guard: skipped where no GPU is usable, failed instead where the GPU host's script requires
/// every GPU test to run.</summary>
[TestFixture]
public class GpuGuardTests
{
    [TestCase(null, null, "Run")]
    [TestCase(null, "1", "Run")]
    [TestCase("no CUDA driver", null, "Skip")]
    [TestCase("no CUDA driver", "", "Skip")]
    [TestCase("no CUDA driver", "0", "Skip")]
    [TestCase("native library not found", "1", "Fail")]
    // (The verdict by name: the enum is internal to the test assembly, the test method public.)
    public void Verdict_follows_the_reason_and_the_variable(string? reason, string? required, string expected) =>
        Assert.That(GpuGuard.Decide(reason, required).ToString(), Is.EqualTo(expected));

    // The suite on a GPU host and its memcheck parts must run with the variable set, or a wrong library path skips
    // every GPU test and the run still passes.
    [TestCase("step_test")]
    [TestCase("step_memcheck")]
    public void The_GPU_host_script_requires_the_GPU_for_the_suite(string step)
    {
        string script = File.ReadAllText(Checkout.PathOf("scripts/gpu-host.sh"));
        Assert.That(script, Does.Contain($"export {GpuGuard.RequireVariable}=1"));
        Assert.That(FunctionBody(script, "export_require_gpu"), Does.Contain($"export {GpuGuard.RequireVariable}=1"));
        Assert.That(FunctionBody(script, step), Does.Contain("export_require_gpu"),
            $"{step} in scripts/gpu-host.sh does not call export_require_gpu");
    }

    // A bash function's text, from "name() {" to its closing brace (a line holding "}" alone, or the one-line form).
    private static string FunctionBody(string script, string name)
    {
        int start = script.IndexOf($"\n{name}() {{", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"scripts/gpu-host.sh has no function {name}");
        int lineEnd = script.IndexOf('\n', start + 1);
        string firstLine = script[(start + 1)..lineEnd];
        if (firstLine.TrimEnd().EndsWith('}')) return firstLine;
        int end = script.IndexOf("\n}\n", start, StringComparison.Ordinal);
        Assert.That(end, Is.GreaterThan(start), $"no closing brace for {name}");
        return script[start..end];
    }
}
