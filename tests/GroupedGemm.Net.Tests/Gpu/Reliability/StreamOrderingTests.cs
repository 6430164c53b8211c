using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Issue 23, item 2: one context, calls in flight on two streams. Each call of a handle now waits (on the device) for
/// the previous one when their streams differ, so the second call's preparation can no longer overwrite the arrays
/// the first call's GEMM still reads.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class StreamOrderingTests : GpuFixture
{
    /// <summary>
    /// Before the fix: the calls on stream B rewrote the shared workspace while the call on stream A (held back behind
    /// a gigabyte of memsets) had not run yet, and one of them computed with the other's arrays
    /// (cudaErrorIllegalInstruction on an H100, or wrong results).
    /// </summary>
    [Test]
    public void Calls_on_two_streams_from_one_context_both_compute_their_own_result()
    {
        const DType dtype = DType.BFloat16;
        Random random = TestRandom.Create();
        using CudaStream streamA = CudaStream.Create();
        using CudaStream streamB = CudaStream.Create();

        const int bigExperts = 64, bigM = 4096, bigK = 256, bigN = 256;
        long[] bigCounts = Routing.Zipf(random, bigM, bigExperts);
        (DeviceTensor a1, double[] a1Ref) = DeviceData.Random(random, dtype, bigM, bigK);
        (DeviceTensor b1, double[] b1Ref) = DeviceData.Random(random, dtype, bigExperts, bigK, bigN);

        const int smallExperts = 8, smallM = 512, smallK = 64, smallN = 128, smallCalls = 16;
        long[] smallCounts = Routing.Uniform(random, smallM, smallExperts);
        (DeviceTensor a2, double[] a2Ref) = DeviceData.Random(random, dtype, smallM, smallK);
        (DeviceTensor b2, double[] b2Ref) = DeviceData.Random(random, dtype, smallExperts, smallK, smallN);

        using (a1)
        using (b1)
        using (a2)
        using (b2)
        using (DeviceTensor counts1 = DeviceTensor.FromArray(bigCounts))
        using (DeviceTensor counts2 = DeviceTensor.FromArray(smallCounts))
        using (var c1 = GuardedTensor.Allocate(dtype, bigM, bigN))
        using (DeviceTensor delay = DeviceTensor.Allocate(DType.Int32, 1L << 28))  // 1 GiB
        {
            if (!Supported(GemmBackend.Auto, a1, b1, bigCounts, counts1, c1.Inner, GmmForm.Forward, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");
            var smallOutputs = new List<GuardedTensor>();
            try
            {
                for (int i = 0; i < smallCalls; ++i) smallOutputs.Add(GuardedTensor.Allocate(dtype, smallM, smallN));

                // Hold stream A back so that its call is still queued while stream B's calls are issued.
                for (int i = 0; i < 16; ++i) delay.Fill((byte)i, streamA);
                Context.GmmInto(a1, b1, counts1, c1.Inner, options: new GmmOptions { Stream = streamA });
                foreach (GuardedTensor c2 in smallOutputs)
                    Context.GmmInto(a2, b2, counts2, c2.Inner, options: new GmmOptions { Stream = streamB });
                streamA.Synchronize();
                streamB.Synchronize();

                AssertClose(DeviceData.Download(c1.Inner), CpuReference.Gmm(a1Ref, b1Ref, bigCounts, bigK, bigN, false, false),
                    dtype, "large call on stream A");
                c1.AssertGuardsUntouched("large call on stream A");
                double[] expected = CpuReference.Gmm(a2Ref, b2Ref, smallCounts, smallK, smallN, false, false);
                for (int i = 0; i < smallOutputs.Count; ++i)
                {
                    AssertClose(DeviceData.Download(smallOutputs[i].Inner), expected, dtype, $"small call {i} on stream B");
                    smallOutputs[i].AssertGuardsUntouched($"small call {i} on stream B");
                }
            }
            finally
            {
                foreach (GuardedTensor t in smallOutputs) t.Dispose();
            }
        }
    }

    /// <summary>
    /// Ordering must leave capture alone: a graph captured on one stream, while uncaptured calls of the same context
    /// run on another, replays correctly on a third (waiting on an event recorded outside a capture is illegal).
    /// </summary>
    [Test]
    public void Capture_and_replay_on_other_streams_while_uncaptured_calls_run()
    {
        const DType dtype = DType.BFloat16;
        const int experts = 8, m = 512, k = 64, n = 128;
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, m, experts);
        using CudaStream capture = CudaStream.Create();
        using CudaStream other = CudaStream.Create();
        using CudaStream replay = CudaStream.Create();
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, experts, k, n);
        using (a)
        using (b)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        using (var captured = GuardedTensor.Allocate(dtype, m, n))
        using (var uncaptured = GuardedTensor.Allocate(dtype, m, n))
        {
            if (!Supported(GemmBackend.Auto, a, b, counts, deviceCounts, captured.Inner, GmmForm.Forward, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");
            Context.GmmInto(a, b, deviceCounts, uncaptured.Inner, options: new GmmOptions { Stream = other });
            using CudaGraph graph = CudaGraph.Capture(capture,
                () => Context.GmmInto(a, b, deviceCounts, captured.Inner, options: new GmmOptions { Stream = capture }));
            for (int i = 0; i < 4; ++i)
            {
                graph.Launch(replay);
                Context.GmmInto(a, b, deviceCounts, uncaptured.Inner, options: new GmmOptions { Stream = other });
            }

            replay.Synchronize();
            other.Synchronize();
            double[] expected = CpuReference.Gmm(aRef, bRef, counts, k, n, false, false);
            AssertClose(DeviceData.Download(captured.Inner), expected, dtype, "replayed graph");
            AssertClose(DeviceData.Download(uncaptured.Inner), expected, dtype, "uncaptured calls");
            captured.AssertGuardsUntouched("replayed graph");
            uncaptured.AssertGuardsUntouched("uncaptured calls");
        }
    }
}
