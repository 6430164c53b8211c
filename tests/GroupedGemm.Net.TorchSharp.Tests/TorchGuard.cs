using TorchSharp;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>
/// Skips the adapter's tests, with the reason, where libtorch cannot be loaded; with GG_REQUIRE_TORCH=1 that is a
/// failure instead (for the machines where the tests are meant to run).
/// </summary>
/// <remarks>
/// TorchSharp 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32 (the libstdc++ of GCC 13 or newer). Debian 12, the CI
/// image, ships GCC 12's libstdc++ (GLIBCXX_3.4.30), so `dotnet cake --target=Test` runs these tests inside a Debian 13
/// userland (scripts/torchsharp-tests.sh); where that userland cannot be made, the script sets GG_TORCH_SKIP_REASON
/// and every test is skipped with it.
/// </remarks>
internal static class TorchGuard
{
    private static readonly Lazy<string?> s_unavailable = new(Probe);

    /// <summary>Ignores (or, with GG_REQUIRE_TORCH=1, fails) the calling test where libtorch does not load.</summary>
    internal static void Require()
    {
        string? reason = s_unavailable.Value;
        if (reason is null) return;
        if (Environment.GetEnvironmentVariable("GG_REQUIRE_TORCH") == "1") Assert.Fail($"libtorch did not load: {reason}");
        Assert.Ignore($"TorchSharp test skipped, libtorch did not load: {reason}");
    }

    /// <summary>Whether CUDA tensors can be made (a CUDA libtorch on a GPU host).</summary>
    internal static bool CudaAvailable => s_unavailable.Value is null && torch.cuda.is_available();

    private static string? Probe()
    {
        string? skipReason = Environment.GetEnvironmentVariable("GG_TORCH_SKIP_REASON");
        if (!string.IsNullOrEmpty(skipReason)) return skipReason;
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
#pragma warning disable CA1031 // any load failure is a reason to skip, reported with its message
        catch (Exception e)
#pragma warning restore CA1031
        {
            string first = e.Message.Split('\n')[0];
            return $"{e.GetType().Name}: {first} (TorchSharp 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32, " +
                "the libstdc++ of GCC 13 or newer; Debian 12 has GLIBCXX_3.4.30)";
        }
    }
}

/// <summary>Base of the adapter's test fixtures: each test starts by checking that libtorch loads.</summary>
public abstract class TorchFixture
{
    /// <summary>Skips the test where libtorch does not load.</summary>
    [SetUp]
    public void RequireTorch() => TorchGuard.Require();
}
