using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Memory;

/// <summary>
/// The caching allocator against the lifetime rules that cudaMalloc/cudaFree kept by synchronising the device: a
/// reused block first written on another stream than its own waits for the old work on it, a graph replayed on
/// another stream keeps its memory out of the capture stream's cache, destroying a stream gives back its cached
/// blocks, and the libcuda shim works from a thread that never touched CUDA.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class CachingAllocatorStreamSafetyGpuTests : CachingAllocatorFixture
{
    [Test]
    public void A_reused_block_first_written_on_another_stream_is_not_overwritten_by_its_old_work()
    {
        const int m = 4096, k = 4096, n = 4096, experts = 4, repeats = 20;
        long[] counts = [1024, 1024, 1024, 1024];
        GpuGuard.RequireFreeMemory(1L << 30);
        (DeviceTensor x, _) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, m, k);
        (DeviceTensor w, _) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, experts, k, n);
        using CudaStream other = CudaStream.Create(0);
        using DeviceTensor deviceCounts = DeviceTensor.FromArray(counts);
        using (x)
        using (w)
        {
            // Milliseconds of GEMMs on the legacy default stream (device counts: no host wait) write the old tensor,
            // which is disposed at once.
            DeviceTensor old = DeviceTensor.Allocate(DType.BFloat16, m, n);
            for (int i = 0; i < repeats; i++) Context.GmmInto(x, w, deviceCounts, old);
            nint oldAddress = old.Pointer;
            old.Dispose();

            // The cache hands the block out again for the legacy default stream; it is first written on another one.
            using DeviceTensor reused = DeviceTensor.Allocate(DType.BFloat16, m, n);
            Assert.That(reused.Pointer, Is.EqualTo(oldAddress), "the test needs a cache hit");
            reused.Fill(0x3F, other);
            other.Synchronize();
            CudaStream.Default.Synchronize();

            ushort[] bits = reused.ToArray<ushort>();
            int wrong = bits.Count(b => b != 0x3F3F);
            Assert.That(wrong, Is.Zero, "elements overwritten by GEMMs queued before the block was reused");
        }
    }

    [Test]
    public void A_graph_replayed_on_another_stream_keeps_its_output_out_of_the_capture_streamsCache()
    {
        const int m = 96, k = 64, n = 48, experts = 3;
        long[] counts = [40, 0, 56];
        using CudaStream capture = CudaStream.Create(0), replay = CudaStream.Create(0);
        (DeviceTensor x, double[] xs) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, m, k);
        (DeviceTensor w, double[] ws) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, experts, k, n);
        using DeviceTensor deviceCounts = DeviceTensor.FromArray(counts);
        CudaStream.Default.Synchronize();
        using (x)
        using (w)
        {
            DeviceTensor c;
            using (capture.AsCurrent()) c = DeviceTensor.Allocate(DType.BFloat16, m, n);
            Context.Reserve(experts);
            var options = new GmmOptions { Stream = capture };
            CudaGraph graph = CudaGraph.Capture(capture, () => Context.GmmInto(x, w, deviceCounts, c, options: options));
            graph.Launch(replay);
            replay.Synchronize();
            AssertClose(DeviceData.Download(c), CpuReference.Gmm(xs, ws, counts, k, n), DType.BFloat16, "the replay on another stream");

            long freesBefore = Cache.Statistics.BackingFrees;
            c.Dispose();
            Assert.That(Cache.Statistics.BackingFrees, Is.EqualTo(freesBefore), "the graph still holds the output");
            graph.Dispose();
            Assert.That(Cache.Statistics.BackingFrees, Is.EqualTo(freesBefore + 1),
                "replayed on another stream, the output goes to cudaFree, not to the capture stream's cache");
            long hits = Cache.Statistics.CacheHits;
            using (capture.AsCurrent())
            using (DeviceTensor next = DeviceTensor.Allocate(DType.BFloat16, m, n))
                Assert.That(Cache.Statistics.CacheHits, Is.EqualTo(hits), "nothing of that size is cached for the capture stream");
        }
    }

    [Test]
    public void Destroying_a_stream_gives_back_the_blocksCached_for_it()
    {
        const long bytes = 4L << 20;
        var stream = CudaStream.Create(0);
        DeviceTensor t;
        using (stream.AsCurrent())
        {
            t = DeviceTensor.Allocate(DType.Float32, bytes / 4);
            t.Zero();
        }

        t.Dispose();
        Assert.That(Cache.Statistics.BytesCached, Is.EqualTo(bytes));
        stream.Dispose();
        DeviceAllocatorStatistics stats = Cache.Statistics;
        Assert.That(stats.BytesCached, Is.Zero, "CUDA may give the destroyed stream's handle to a new stream");
        Assert.That(stats.BackingFrees, Is.EqualTo(1));
    }

    [Test]
    public void Stream_wait_and_event_query_work_from_a_thread_that_never_used_cuda()
    {
        using CudaStream producer = CudaStream.Create(0), consumer = CudaStream.Create(0);
        using CudaEvent done = CudaEvent.Create(0);
        using DeviceTensor t = DeviceTensor.Allocate(DType.Float32, 1 << 20);
        t.Fill(1, producer);
        done.Record(producer);
        Exception? failure = null;
        bool completed = false;
        var thread = new Thread(() =>
        {
            try
            {
                consumer.Wait(done);
                consumer.Synchronize();
                completed = done.IsCompleted();
            }
#pragma warning disable CA1031 // The failure is reported on the test thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();

        Assert.That(failure, Is.Null, "cuStreamWaitEvent / cuEventQuery on a fresh thread (primary context not yet current)");
        Assert.That(completed, Is.True);
    }
}
