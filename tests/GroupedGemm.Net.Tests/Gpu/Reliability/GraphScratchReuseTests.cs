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
    /// Captures of <see cref="WideWeightGradient"/> (a slice of at least 6 MB each), each graph launched and disposed
    /// before the next capture. Without reuse the captures after the first hold 47 more slices (over 280 MB); with it the
    /// first few serve them all. The bound, 8 slices, leaves room for CUDA running a disposed graph's release on its own
    /// thread after the next capture began.
    /// </summary>
    [Test]
    public void Captures_after_their_graphs_are_disposed_reuse_the_scratch_of_the_first()
    {
        using var call = new WideWeightGradient(TestRandom.Create());
        call.IgnoreUnlessTaken(Supported);
        using var context = new GroupedGemmContext(0);
        long afterFirst = 0;
        for (int capture = 0; capture < Captures; capture++)
        {
            call.CaptureAndLaunch(context).Dispose();
            if (capture == 0 || capture == Captures - 1) call.AssertResult(AssertClose, $"capture {capture}");
            CudaDevice.Synchronize();
            if (capture == 0) afterFirst = CudaDevice.GetMemoryInfo(0).Free;
        }

        long afterAll = CudaDevice.GetMemoryInfo(0).Free;
        TestContext.Out.WriteLine($"{Captures} captures; free after the first {afterFirst >> 20} MiB, after all " +
            $"{afterAll >> 20} MiB (a slice holds at least {WideWeightGradient.ZeroOperandBytes >> 20} MiB)");
        Assert.That(afterFirst - afterAll, Is.LessThanOrEqualTo(8 * WideWeightGradient.ZeroOperandBytes),
            $"device memory held by {Captures - 1} more captures after their graphs were disposed (bytes)");
    }
}
