using NUnit.Framework;

namespace GroupedGemm.Tests.Support;

/// <summary>The guard every GPU test starts with.</summary>
internal static class GpuGuard
{
    /// <summary>
    /// The environment variable that turns a missing GPU into a failure. <c>scripts/gpu-host.sh</c> sets it to 1 for
    /// the suite and its memcheck parts: there every GPU test must run, and a library path that named no file once
    /// skipped all of them while the run still reported 0 failed.
    /// </summary>
    internal const string RequireVariable = "GG_TESTS_REQUIRE_GPU";

    /// <summary>What a GPU test does where CUDA is or is not usable.</summary>
    internal enum Verdict
    {
        /// <summary>CUDA is usable: the test runs.</summary>
        Run,
        /// <summary>CUDA is not usable and nothing requires it (a machine without a GPU, CI): the test is skipped.</summary>
        Skip,
        /// <summary>CUDA is not usable where <see cref="RequireVariable"/> is 1: the test fails.</summary>
        Fail,
    }

    /// <summary>The verdict for <paramref name="unavailableReason"/> (null: CUDA is usable) under the variable's
    /// value <paramref name="required"/>.</summary>
    internal static Verdict Decide(string? unavailableReason, string? required) =>
        unavailableReason is null ? Verdict.Run : required == "1" ? Verdict.Fail : Verdict.Skip;

    /// <summary>Skips the test, with the reason, where the native library or a CUDA device is missing; fails it
    /// instead where <see cref="RequireVariable"/> is 1.</summary>
    internal static void Require()
    {
        string? reason = CudaDevice.UnavailableReason;
        switch (Decide(reason, Environment.GetEnvironmentVariable(RequireVariable)))
        {
            case Verdict.Fail:
                Assert.Fail($"{RequireVariable}=1, but no GPU test can run here: {reason}");
                break;
            case Verdict.Skip:
                Assert.Ignore($"GPU test skipped: {reason}");
                break;
        }
    }

    /// <summary>Skips the test unless device 0 has at least <paramref name="bytes"/> free.</summary>
    /// <param name="bytes">The memory the test needs.</param>
    internal static void RequireFreeMemory(long bytes)
    {
        // Blocks cached by earlier tests' tensors count as used to CUDA: give them back first.
        CachingDeviceAllocator.Shared.EmptyCache();
        (long free, _) = CudaDevice.GetMemoryInfo(0);
        if (free < bytes) Assert.Ignore($"needs {bytes >> 20} MiB of free device memory, {free >> 20} MiB free");
    }
}
