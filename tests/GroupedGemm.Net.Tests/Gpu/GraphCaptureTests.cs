using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Device-count calls captured in a CUDA graph follow counts changed in device memory between replays.</summary>
[TestFixture]
[Category("Gpu")]
public class GraphCaptureTests : GpuFixture
{
    [Test]
    public void Replay_uses_the_counts_in_device_memory_at_launch([Values] GmmForm form)
    {
        const DType dtype = DType.BFloat16;
        const int experts = 12, m = 900, k = 64, n = 96;
        Random random = TestRandom.Create();
        long[] first = Routing.Uniform(random, m, experts);
        long[] second = Routing.Zipf(random, m, experts);
        second[1] += second[4];
        second[4] = 0;

        using CudaStream stream = CudaStream.Create();
        var options = new GmmOptions { Stream = stream };
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, form.B(m, experts, k, n));
        using (a)
        using (b)
        using (DeviceTensor counts = DeviceTensor.FromArray(first))
        using (DeviceTensor c = DeviceTensor.Allocate(dtype, form.C(m, experts, k, n)))
        {
            if (!Supported(GemmBackend.Auto, a, b, first, counts, c, form, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");

            bool transA = form == GmmForm.TransA, transB = form == GmmForm.TransB;
            Context.Reserve(experts);
            using CudaGraph graph = CudaGraph.Capture(stream, () => Context.GmmInto(a, b, counts, c, transA, transB, false, options));

            foreach (long[] current in new[] { first, second })
            {
                counts.CopyFrom<long>(current, stream: stream);
                c.Poison(stream);
                graph.Launch(stream);
                stream.Synchronize();
                double[] expected = CpuReference.Gmm(aRef, bRef, current, k, n, transA, transB);
                AssertClose(DeviceData.Download(c), expected, dtype, $"replay with counts [{string.Join(", ", current)}]");
            }
        }
    }

    [Test]
    public void Events_time_a_launch()
    {
        using CudaStream stream = CudaStream.Create();
        using CudaEvent start = CudaEvent.Create();
        using CudaEvent end = CudaEvent.Create();
        using DeviceTensor t = DeviceTensor.Allocate(DType.Float32, 1 << 20);
        start.Record(stream);
        t.Poison(stream);
        end.Record(stream);
        end.Synchronize();
        Assert.That(CudaEvent.ElapsedMilliseconds(start, end), Is.GreaterThanOrEqualTo(0f));
        Assert.That(t.ToArray<float>().Take(16), Is.All.NaN);
    }
}
