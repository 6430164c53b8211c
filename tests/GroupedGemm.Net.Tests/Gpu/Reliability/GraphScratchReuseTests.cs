using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// A captured call's scratch (its slice of the context's graph memory) is reused once no graph that captured it can
/// replay it. Before 0.15.0 every slice stayed taken until the context was destroyed, so a program that captured again
/// and again (a graph per batch shape, rebuilt on each change) grew the card's used memory by a slice per capture.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class GraphScratchReuseTests : GpuFixture
{
    private const int Captures = 48;
    private const DType Dtype = DType.BFloat16;

    // Many experts, few rows: a CUTLASS grouped GEMM's per-expert arrays (offsets, problem sizes, three pointers and
    // three leading dimensions, 68 bytes an expert) fill the slice, whatever the card picks for the rows themselves.
    // The first version of this test captured a weight gradient whose slice came from a zero operand that only
    // cutlass-sm80 uses: on an H100 (cutlass-sm90) its slice was a few KB and the test passed without the fix.
    private const int Experts = 150_000, Rows = 64, K = 16, N = 16;

    /// <summary>The least a captured call's slice holds: the per-expert arrays alone.</summary>
    private const long SliceBytes = 68L * Experts;

    /// <summary>
    /// Captures of a many-expert forward call on a CUTLASS backend (a slice of about 10 MB each), each graph launched
    /// and disposed before the next capture. Without reuse the captures after the first hold 47 more slices (about
    /// 480 MB); with it the first few serve them all. The bound, 8 slices, leaves room for CUDA running a disposed
    /// graph's release on its own thread after the next capture began. The first capture must take a slice of at least
    /// <see cref="SliceBytes"/> from the card, or the test measures nothing and fails.
    /// </summary>
    [Test]
    public void Captures_after_their_graphs_are_disposed_reuse_the_scratch_of_the_first()
    {
        Random random = TestRandom.Create();
        long[] counts = new long[Experts];
        for (int e = 0; e < 4; e++) counts[e * (Experts / 4)] = Rows / 4;
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, Dtype, Rows, K);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, Dtype, Experts, K, N);
        using (a)
        using (b)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        using (var c = GuardedTensor.Allocate(Dtype, Rows, N))
        using (CudaStream stream = CudaStream.Create())
        {
            GemmBackend backend = CutlassBackendTaking(a, b, counts, deviceCounts, c.Inner);
            var options = new GmmOptions { Stream = stream, Backend = backend };
            double[] expected = CpuReference.Gmm(aRef, bRef, counts, K, N, false, false);
            using var context = new GroupedGemmContext(0);

            // Uncaptured first: module loading and the shared workspace's growth happen before the baseline.
            context.GmmInto(a, b, deviceCounts, c.Inner, options: options);
            stream.Synchronize();
            long before = CudaDevice.GetMemoryInfo(0).Free, afterFirst = 0;
            for (int capture = 0; capture < Captures; capture++)
            {
                c.Inner.Fill(0xFF, stream);  // NaN in bf16: a replay that writes nothing fails the check
                using (CudaGraph graph = CudaGraph.Capture(stream,
                           () => context.GmmInto(a, b, deviceCounts, c.Inner, options: options)))
                {
                    graph.Launch(stream);
                    stream.Synchronize();
                }

                if (capture == 0 || capture == Captures - 1)
                {
                    AssertClose(DeviceData.Download(c.Inner), expected, Dtype, $"{backend}, capture {capture}");
                    c.AssertGuardsUntouched($"{backend}, capture {capture}");
                }

                CudaDevice.Synchronize();
                if (capture == 0) afterFirst = CudaDevice.GetMemoryInfo(0).Free;
            }

            long afterAll = CudaDevice.GetMemoryInfo(0).Free;
            TestContext.Out.WriteLine($"{backend}, {Captures} captures: free before {before >> 20} MiB, after the first " +
                $"{afterFirst >> 20} MiB, after all {afterAll >> 20} MiB (a slice holds at least {SliceBytes >> 20} MiB)");
            Assert.That(before - afterFirst, Is.GreaterThanOrEqualTo(SliceBytes),
                "device memory the first capture took (bytes): its slice, or the test measures nothing");
            Assert.That(afterFirst - afterAll, Is.LessThanOrEqualTo(8 * SliceBytes),
                $"device memory held by {Captures - 1} more captures after their graphs were disposed (bytes)");
        }
    }

    // The first compiled CUTLASS backend that takes the call on this card (both build their per-expert arrays in the
    // call's scratch); none: the test is ignored, naming why.
    private GemmBackend CutlassBackendTaking(DeviceTensor a, DeviceTensor b, long[] counts, DeviceTensor deviceCounts,
        DeviceTensor c)
    {
        var reasons = new List<string>();
        foreach (GemmBackend backend in new[] { GemmBackend.CutlassSm90, GemmBackend.CutlassSm80 })
        {
            if (Supported(backend, a, b, counts, deviceCounts, c, GmmForm.Forward, out string reason)) return backend;
            reasons.Add($"{backend}: {reason}");
        }

        Assert.Ignore($"no CUTLASS backend takes the call: {string.Join("; ", reasons)}");
        return GemmBackend.Auto;
    }
}
