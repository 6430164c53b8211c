using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Issue 27's stream convention on a GPU: calls given no stream run on the ambient one, a stream waits for another's
/// event on the GPU, pinned buffers copy asynchronously, and <see cref="CudaStream.SynchronizeAsync"/> completes.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class StreamConventionTests : GpuFixture
{
    private const int M = 64, K = 32, N = 48, Experts = 2;
    private static readonly long[] Counts = [24, 40];

    [Test]
    public async Task Calls_without_a_stream_run_on_the_ambient_stream()
    {
        (DeviceTensor x, double[] xs) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, M, K);
        (DeviceTensor w, double[] ws) = DeviceData.Random(TestRandom.Create(), DType.BFloat16, Experts, K, N);
        using CudaStream stream = CudaStream.Create(0);
        // The uploads ran on the legacy default stream, which a non-blocking stream does not wait for.
        CudaStream.Default.Synchronize();
        using (x)
        using (w)
        {
            DeviceTensor y;
            using (stream.AsCurrent())
            {
                Assert.That(CudaStream.Current, Is.SameAs(stream));
                y = Ops.Gmm(x, w, Counts);
            }

            // Nothing has synchronised the stream yet: the call was queued there, not on the legacy default stream.
            await stream.SynchronizeAsync();
            using (y)
                AssertClose(DeviceData.Download(y), CpuReference.Gmm(xs, ws, Counts, K, N), DType.BFloat16, "gmm on the ambient stream");
        }
    }

    [Test]
    public async Task A_stream_waits_for_an_event_of_another_and_pinned_copies_are_asynchronous()
    {
        const int n = 1 << 20;
        using CudaStream producer = CudaStream.Create(0), consumer = CudaStream.Create(0);
        using CudaEvent filled = CudaEvent.Create(0);
        using DeviceTensor a = DeviceTensor.Allocate(DType.Float32, n), b = DeviceTensor.Allocate(DType.Float32, n);
        using var upload = new PinnedHostBuffer<float>(n);
        using var download = new PinnedHostBuffer<float>(n);
        for (int i = 0; i < n; i++) upload.Span[i] = i * 0.5f;

        a.CopyFrom(upload, stream: producer);
        filled.Record(producer);
        consumer.Wait(filled);
        b.CopyFrom(a, consumer);
        b.CopyTo(download, stream: consumer);
        await consumer.SynchronizeAsync();

        Assert.That(filled.IsCompleted(), Is.True);
        Assert.That(download.Span.ToArray(), Is.EqualTo(upload.Span.ToArray()));
    }

    [Test]
    public void A_pinned_copy_checks_its_range_and_element_type()
    {
        using DeviceTensor t = DeviceTensor.Allocate(DType.BFloat16, 16);
        using var wide = new PinnedHostBuffer<BFloat16>(17);
        using var wrongType = new PinnedHostBuffer<Half>(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.CopyFrom(wide));
        Assert.Throws<ArgumentException>(() => t.CopyTo(wrongType));
    }

    [Test]
    public void A_disposed_stream_is_refused_by_the_new_stream_methods()
    {
        var stream = CudaStream.Create(0);
        using CudaEvent e = CudaEvent.Create(0);
        e.Record(stream);
        stream.Dispose();
        Assert.Throws<ObjectDisposedException>(() => stream.Wait(e));
        Assert.Throws<ObjectDisposedException>(() => stream.SynchronizeAsync());
        Assert.Throws<ObjectDisposedException>(() => stream.AsCurrent());
    }
}
