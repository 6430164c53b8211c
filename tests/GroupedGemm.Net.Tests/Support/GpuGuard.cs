using NUnit.Framework;

namespace GroupedGemm.Tests.Support;

/// <summary>The guard every GPU test starts with.</summary>
internal static class GpuGuard
{
    /// <summary>Skips the test, with the reason, where the native library or a CUDA device is missing.</summary>
    internal static void Require()
    {
        string? reason = CudaDevice.UnavailableReason;
        if (reason is not null) Assert.Ignore($"GPU test skipped: {reason}");
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
