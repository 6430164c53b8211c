using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Issue 23, items 1 and 11: a captured call must keep working after the handle's workspace moved, and a capture must
/// not fail for want of workspace. Captured calls get their own graph memory, owned by the handle (reused once the
/// graphs that captured it are gone: GraphScratchReuseTests).
/// </summary>
[TestFixture]
[Category("Gpu")]
public class GraphWorkspaceTests : GpuFixture
{
    /// <summary>
    /// Before the fix: Reserve freed the block the graph's preparation kernel writes its group arrays into, and the
    /// replay wrote freed memory (cudaErrorIllegalAddress at the next synchronisation, a dead context).
    /// </summary>
    [Test]
    public void Replay_after_the_workspace_grew_writes_only_its_output()
    {
        const DType dtype = DType.BFloat16;
        const int experts = 12, m = 900, k = 64, n = 96;
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, m, experts);
        using CudaStream stream = CudaStream.Create();
        var options = new GmmOptions { Stream = stream };
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, experts, k, n);
        using (a)
        using (b)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        using (var c = GuardedTensor.Allocate(dtype, m, n))
        {
            if (!Supported(GemmBackend.Auto, a, b, counts, deviceCounts, c.Inner, GmmForm.Forward, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");

            using var context = new GroupedGemmContext(0);
            using CudaGraph graph = CudaGraph.Capture(stream,
                () => context.GmmInto(a, b, deviceCounts, c.Inner, options: options));

            // Far beyond the 5 MiB reserved at creation: the shared block moves. An uncaptured call with many experts
            // grows it again, and writes its own arrays into the new block.
            context.Reserve(100_000);
            long[] many = new long[3000];
            many[0] = m;
            using (DeviceTensor manyCounts = DeviceTensor.FromArray(many))
            using (DeviceTensor bMany = DeviceTensor.Allocate(dtype, 3000, k, n))
            using (DeviceTensor cMany = DeviceTensor.Allocate(dtype, m, n))
            {
                bMany.Zero();
                context.GmmInto(a, bMany, manyCounts, cMany, options: new GmmOptions { Stream = stream });
            }

            for (int replay = 0; replay < 3; ++replay)
            {
                graph.Launch(stream);
                stream.Synchronize();
            }

            AssertClose(DeviceData.Download(c.Inner), CpuReference.Gmm(aRef, bRef, counts, k, n, false, false), dtype,
                "replay after the workspace grew");
            c.AssertGuardsUntouched("replay after the workspace grew");
        }
    }

    /// <summary>
    /// Before the fix: the reservation did not count the zero operand of the weight gradient (max(k, n) elements), so a
    /// capture of a trans_a call with a wide n failed with WORKSPACE_TOO_SMALL even after Reserve.
    /// </summary>
    [Test]
    public void Capture_of_a_wide_weight_gradient_after_reserve_needs_no_more_workspace()
    {
        const DType dtype = DType.BFloat16;
        const int experts = 2, m = 16, k = 8, n = 3_000_000;  // the zero operand alone is 6 MB, more than the 5 MiB reserved
        long[] counts = [m, 0];  // an empty expert: its c[e] comes from the zero operand
        Random random = TestRandom.Create();
        using CudaStream stream = CudaStream.Create();
        var options = new GmmOptions { Stream = stream };
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, m, n);
        using (a)
        using (b)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        using (var c = GuardedTensor.Allocate(dtype, experts, k, n))
        {
            if (!Supported(GemmBackend.Auto, a, b, counts, deviceCounts, c.Inner, GmmForm.TransA, out string reason))
                Assert.Ignore($"no compiled backend takes this call: {reason}");

            Context.Reserve(experts);
            using CudaGraph graph = CudaGraph.Capture(stream,
                () => Context.GmmInto(a, b, deviceCounts, c.Inner, transA: true, options: options));
            graph.Launch(stream);
            stream.Synchronize();

            AssertClose(DeviceData.Download(c.Inner), CpuReference.Gmm(aRef, bRef, counts, k, n, true, false), dtype,
                "captured weight gradient with n = 3e6");
            c.AssertGuardsUntouched("captured weight gradient with n = 3e6");
        }
    }

    /// <summary>
    /// The same on every card: a capture of a call whose scratch (about 10 MB of per-expert arrays) is twice what a
    /// context reserves at creation, after Reserve for one expert. The test above covers the zero operand, which only
    /// cutlass-sm80 uses: on a Hopper card its call takes a few KB of scratch.
    /// </summary>
    [Test]
    public void Capture_of_a_call_with_more_scratch_than_reserved_needs_no_more_workspace()
    {
        using var call = new ManyExpertForward(TestRandom.Create());
        call.ChooseBackend(Supported);
        using var context = new GroupedGemmContext(0);
        context.Reserve(1);
        using (CudaGraph graph = call.CaptureAndLaunch(context))
            call.AssertResult(AssertClose, "captured 150 000-expert forward after Reserve(1)");

        // Then uncaptured: the shared workspace grows, and the call still computes its result.
        call.Run(context);
        call.Stream.Synchronize();
        call.AssertResult(AssertClose, "uncaptured 150 000-expert forward after the capture");
    }
}
