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

    /// <summary>
    /// Captures of <see cref="ManyExpertForward"/> (a slice of about 10 MB each), each graph launched and disposed before
    /// the next capture. Without reuse the captures after the first hold 47 more slices (about 480 MB); with it the first
    /// few serve them all. The bound, 8 slices, leaves room for CUDA running a disposed graph's release on its own thread
    /// after the next capture began. The first capture must take a slice of at least
    /// <see cref="ManyExpertForward.ScratchBytes"/> from the card, or the test measures nothing and fails.
    /// On an H100 (2026-12-07) the 0.14.0 library held 492830720 bytes after the 48 captures and failed.
    /// </summary>
    [Test]
    public void Captures_after_their_graphs_are_disposed_reuse_the_scratch_of_the_first()
    {
        using var call = new ManyExpertForward(TestRandom.Create());
        call.ChooseBackend(Supported);
        using var context = new GroupedGemmContext(0);

        // Uncaptured first: module loading and the shared workspace's growth happen before the baseline.
        call.Run(context);
        call.Stream.Synchronize();
        long before = CudaDevice.GetMemoryInfo(0).Free, afterFirst = 0;
        for (int capture = 0; capture < Captures; capture++)
        {
            call.CaptureAndLaunch(context).Dispose();
            if (capture == 0 || capture == Captures - 1) call.AssertResult(AssertClose, $"capture {capture}");
            CudaDevice.Synchronize();
            if (capture == 0) afterFirst = CudaDevice.GetMemoryInfo(0).Free;
        }

        long afterAll = CudaDevice.GetMemoryInfo(0).Free;
        TestContext.Out.WriteLine($"{call.Backend}, {Captures} captures: free before {before >> 20} MiB, after the " +
            $"first {afterFirst >> 20} MiB, after all {afterAll >> 20} MiB (a slice holds at least " +
            $"{ManyExpertForward.ScratchBytes >> 20} MiB)");
        Assert.That(before - afterFirst, Is.GreaterThanOrEqualTo(ManyExpertForward.ScratchBytes),
            "device memory the first capture took (bytes): its slice, or the test measures nothing");
        Assert.That(afterFirst - afterAll, Is.LessThanOrEqualTo(8 * ManyExpertForward.ScratchBytes),
            $"device memory held by {Captures - 1} more captures after their graphs were disposed (bytes)");
    }
}
