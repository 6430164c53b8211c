using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// A bf16 forward call whose scratch is large on every card: 150 000 experts, 64 rows in four of them, on a CUTLASS
/// backend, whose per-expert arrays (offsets, problem sizes, three pointers and three leading dimensions: 68 bytes an
/// expert) live in the call's scratch, about 10 MB, twice what a context reserves at creation. The graph tests capture
/// it: GraphWorkspaceTests (a capture never needs more workspace) and GraphScratchReuseTests (that scratch reused once
/// its graph is disposed). A call whose scratch depends on the backend would not do: the wide weight gradient's zero
/// operand exists on cutlass-sm80 only, so on a Hopper card its capture took a few KB.
/// </summary>
internal sealed class ManyExpertForward : IDisposable
{
    internal const DType Dtype = DType.BFloat16;
    internal const int Experts = 150_000, Rows = 64, K = 16, N = 16;

    /// <summary>The least a captured call's scratch holds: the per-expert arrays alone.</summary>
    internal const long ScratchBytes = 68L * Experts;

    /// <summary>GpuFixture.Supported's shape, passed in by the test (it is the fixture's).</summary>
    internal delegate bool SupportCheck(GemmBackend backend, DeviceTensor a, DeviceTensor b, long[] counts,
        DeviceTensor? deviceCounts, DeviceTensor c, GmmForm form, out string reason);

    internal readonly long[] Counts = new long[Experts];
    internal readonly CudaStream Stream = CudaStream.Create();
    internal readonly DeviceTensor A, B, DeviceCounts;
    internal readonly GuardedTensor C;

    /// <summary>The float64 product per expert.</summary>
    internal readonly double[] Expected;

    /// <summary>The CUTLASS backend the call runs on (<see cref="ChooseBackend"/>).</summary>
    internal GemmBackend Backend { get; private set; } = GemmBackend.Auto;

    internal ManyExpertForward(Random random)
    {
        for (int e = 0; e < 4; e++) Counts[e * (Experts / 4)] = Rows / 4;
        (A, double[] aRef) = DeviceData.Random(random, Dtype, Rows, K);
        (B, double[] bRef) = DeviceData.Random(random, Dtype, Experts, K, N);
        DeviceCounts = DeviceTensor.FromArray(Counts);
        C = GuardedTensor.Allocate(Dtype, Rows, N);
        Expected = CpuReference.Gmm(aRef, bRef, Counts, K, N, false, false);
    }

    /// <summary>
    /// The first compiled CUTLASS backend that takes the call on this card (both build their per-expert arrays in the
    /// call's scratch); none: the test is ignored, naming why.
    /// </summary>
    internal void ChooseBackend(SupportCheck supported)
    {
        var reasons = new List<string>();
        foreach (GemmBackend backend in new[] { GemmBackend.CutlassSm90, GemmBackend.CutlassSm80 })
        {
            if (supported(backend, A, B, Counts, DeviceCounts, C.Inner, GmmForm.Forward, out string reason))
            {
                Backend = backend;
                return;
            }

            reasons.Add($"{backend}: {reason}");
        }

        Assert.Ignore($"no CUTLASS backend takes the call: {string.Join("; ", reasons)}");
    }

    /// <summary>The call itself, on <paramref name="context"/>, on <see cref="Stream"/>, after NaN into the output.</summary>
    internal void Run(GroupedGemmContext context)
    {
        if (Backend == GemmBackend.Auto) throw new InvalidOperationException("ChooseBackend first");
        C.Inner.Fill(0xFF, Stream);  // NaN in bf16: a call or replay that writes nothing fails the check
        context.GmmInto(A, B, DeviceCounts, C.Inner, options: new GmmOptions { Stream = Stream, Backend = Backend });
    }

    /// <summary>Captures the call on <see cref="Stream"/>, launches the graph once and waits for it.</summary>
    internal CudaGraph CaptureAndLaunch(GroupedGemmContext context)
    {
        CudaGraph graph = CudaGraph.Capture(Stream, () => Run(context));
        graph.Launch(Stream);
        Stream.Synchronize();
        return graph;
    }

    /// <summary>The output against the float64 product, and its guard bands.</summary>
    internal void AssertResult(Action<double[], double[], DType, string> assertClose, string what)
    {
        assertClose(DeviceData.Download(C.Inner), Expected, Dtype, $"{Backend}, {what}");
        C.AssertGuardsUntouched($"{Backend}, {what}");
    }

    public void Dispose()
    {
        C.Dispose();
        DeviceCounts.Dispose();
        B.Dispose();
        A.Dispose();
        Stream.Dispose();
    }
}
