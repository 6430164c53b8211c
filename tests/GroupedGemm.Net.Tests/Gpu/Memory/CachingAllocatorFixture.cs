using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Memory;

/// <summary>
/// A GPU fixture whose tests run with a fresh <see cref="CachingDeviceAllocator"/> as the default allocator (the
/// package's default is still cudaMalloc), restored and emptied after each test.
/// </summary>
public abstract class CachingAllocatorFixture : GpuFixture
{
    private IDeviceAllocator _before = null!;

    /// <summary>The allocator the current test runs with.</summary>
    protected CachingDeviceAllocator Cache { get; private set; } = null!;

    /// <summary>Makes a fresh cache the default.</summary>
    [SetUp]
    public void UseAFreshCache()
    {
        _before = DeviceAllocator.Default;
        Cache = new CachingDeviceAllocator();
        DeviceAllocator.Default = Cache;
    }

    /// <summary>Restores the previous default and gives the cache's blocks back.</summary>
    [TearDown]
    public void RestoreTheDefault()
    {
        DeviceAllocator.Default = _before;
        Cache.EmptyCache();
    }
}
