using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Memory;

/// <summary>
/// Issue 27's bar: with the caching allocator as the default, <c>Ops.Gmm</c> in a loop stops calling <c>cudaMalloc</c> after
/// its first iterations, with host and with device counts, on the legacy default stream and on an ambient stream, and
/// the results stay right while memory is reused.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class CachingAllocatorGpuTests : CachingAllocatorFixture
{
    private const int M = 96, K = 64, N = 48, Experts = 3, Calls = 1000, Warmup = 3;
    private static readonly long[] Counts = [40, 0, 56];

    [Test]
    public void Ops_gmm_in_a_loop_of_1000_calls_makes_no_cudaMalloc_after_the_first_few([Values] bool deviceCounts)
    {
        (DeviceTensor x, double[] xs) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, M, K);
        (DeviceTensor w, double[] ws) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, Experts, K, N);
        using DeviceTensor counts = DeviceTensor.FromArray(Counts);
        BatchSizes batchSizes = deviceCounts ? counts : Counts;
        using (x)
        using (w)
        {
            long afterWarmup = 0;
            double[] last = [];
            for (int i = 0; i < Calls; i++)
            {
                using DeviceTensor y = Ops.Gmm(x, w, batchSizes);
                if (i == Warmup - 1) afterWarmup = Cache.Statistics.BackingAllocations;
                if (i == Calls - 1) last = DeviceData.Download(y);
            }

            DeviceAllocatorStatistics stats = Cache.Statistics;
            TestContext.Out.WriteLine($"after {Calls} calls: {stats}");
            Assert.That(stats.BackingAllocations, Is.EqualTo(afterWarmup), "cudaMalloc calls after the first iterations");
            Assert.That(stats.CacheHits, Is.GreaterThanOrEqualTo(Calls - Warmup));
            long live = CachingDeviceAllocator.RoundUp(Experts * sizeof(long)) + CachingDeviceAllocator.RoundUp(M * K * 2) +
                CachingDeviceAllocator.RoundUp(Experts * K * N * 2);
            Assert.That(stats.BytesInUse, Is.EqualTo(live), "only x, w and the counts are live");
            AssertClose(last, CpuReference.Gmm(xs, ws, Counts, K, N), DType.BFloat16, "the 1000th result");
        }
    }

    [Test]
    public void A_loop_on_an_ambient_stream_in_a_tensor_scope_reuses_its_memory()
    {
        using CudaStream stream = CudaStream.Create(0);
        (DeviceTensor x, double[] xs) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, M, K);
        (DeviceTensor w, double[] ws) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, Experts, K, N);
        // The uploads ran on the legacy default stream, which a non-blocking stream does not wait for.
        CudaStream.Default.Synchronize();
        using (x)
        using (w)
        using (stream.AsCurrent())
        {
            using DeviceTensor counts = DeviceTensor.FromArray(Counts);
            long afterWarmup = 0, beforeKept = 0;
            DeviceTensor? kept = null;
            for (int i = 0; i < 200; i++)
            {
                using var scope = TensorScope.Begin();
                DeviceTensor h = Ops.Gmm(x, w, counts);
                Assert.That(h.Scope, Is.SameAs(scope));
                using DeviceTensor copy = DeviceTensor.Allocate(DType.BFloat16, M, N);
                copy.CopyFrom(h);
                if (i == Warmup - 1) afterWarmup = Cache.Statistics.BackingAllocations;
                if (i == 199)
                {
                    // A third live block: the only allocation of the loop that the cache cannot serve.
                    beforeKept = Cache.Statistics.BackingAllocations;
                    kept = DeviceTensor.Allocate(DType.BFloat16, M, N).DetachFromScope();
                    kept.CopyFrom(copy);
                }
            }

            stream.Synchronize();
            Assert.That(beforeKept, Is.EqualTo(afterWarmup), "cudaMalloc calls after the first iterations");
            using (kept)
            {
                AssertClose(DeviceData.Download(kept!), CpuReference.Gmm(xs, ws, Counts, K, N), DType.BFloat16,
                    "the result kept out of the last scope");
            }
        }
    }

    [Test]
    public void EmptyCache_returns_the_memory_to_cuda()
    {
        const long bytes = 256L << 20;
        GpuGuard.RequireFreeMemory(2 * bytes);
        DeviceTensor.Allocate(DType.Float32, bytes / 4).Dispose();
        Assert.That(Cache.Statistics.BytesCached, Is.EqualTo(bytes));
        (long freeBefore, _) = CudaDevice.GetMemoryInfo(0);
        Assert.That(Cache.EmptyCache(), Is.EqualTo(bytes));
        (long freeAfter, _) = CudaDevice.GetMemoryInfo(0);
        Assert.That(freeAfter - freeBefore, Is.GreaterThanOrEqualTo(bytes - (4L << 20)));
        Assert.That(Cache.Statistics.BytesReserved, Is.Zero);
    }

    [Test]
    public void An_allocation_larger_than_what_is_free_beside_theCache_empties_it_and_succeeds()
    {
        GpuGuard.RequireFreeMemory(1L << 30);
        (long free, _) = CudaDevice.GetMemoryInfo(0);
        // Cache about 60% of the free memory, then ask for 60% again: only possible after the cache is given back.
        long block = free / 10 * 6 / (2L << 20) * (2L << 20);
        DeviceTensor.Allocate(DType.Float32, block / 4).Dispose();
        using DeviceTensor big = DeviceTensor.Allocate(DType.Float32, (block + (4L << 20)) / 4);
        DeviceAllocatorStatistics stats = Cache.Statistics;
        TestContext.Out.WriteLine(stats.ToString());
        Assert.That(stats.OutOfMemoryRetries, Is.EqualTo(1));
        Assert.That(stats.BackingFrees, Is.EqualTo(1));
    }
}
