using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// A bf16 weight gradient whose scratch is large: two experts, the second empty, so that its output comes from a zero
/// operand of max(k, n) elements in the call's workspace (6 MB at n = 3e6, more than the 5 MiB a context reserves at
/// creation). The graph tests capture it: GraphWorkspaceTests (a capture needs no more workspace after Reserve) and
/// GraphScratchReuseTests (that scratch reused once its graph is disposed).
/// </summary>
internal sealed class WideWeightGradient : IDisposable
{
    internal const DType Dtype = DType.BFloat16;
    internal const int Experts = 2, M = 16, K = 8, N = 3_000_000;

    /// <summary>Bytes of the zero operand alone: the least a captured call's slice holds.</summary>
    internal const long ZeroOperandBytes = (long)N * 2;

    /// <summary>GpuFixture.Supported's shape, passed in by the test (it is the fixture's).</summary>
    internal delegate bool SupportCheck(GemmBackend backend, DeviceTensor a, DeviceTensor b, long[] counts,
        DeviceTensor? deviceCounts, DeviceTensor c, GmmForm form, out string reason);

    internal readonly long[] Counts = [M, 0];
    internal readonly CudaStream Stream = CudaStream.Create();
    internal readonly GmmOptions Options;
    internal readonly DeviceTensor A, B, DeviceCounts;
    internal readonly GuardedTensor C;

    /// <summary>The float64 product, dW = aᵀ·b per expert (zeros for the empty one).</summary>
    internal readonly double[] Expected;

    internal WideWeightGradient(Random random)
    {
        Options = new GmmOptions { Stream = Stream };
        (A, double[] aRef) = DeviceData.Random(random, Dtype, M, K);
        (B, double[] bRef) = DeviceData.Random(random, Dtype, M, N);
        DeviceCounts = DeviceTensor.FromArray(Counts);
        C = GuardedTensor.Allocate(Dtype, Experts, K, N);
        Expected = CpuReference.Gmm(aRef, bRef, Counts, K, N, true, false);
    }

    /// <summary>Ignores the test unless Auto takes the call on this build and card.</summary>
    internal void IgnoreUnlessTaken(SupportCheck supported)
    {
        if (!supported(GemmBackend.Auto, A, B, Counts, DeviceCounts, C.Inner, GmmForm.TransA, out string reason))
            Assert.Ignore($"no compiled backend takes this call: {reason}");
    }

    /// <summary>The call itself, on <paramref name="context"/>, on <see cref="Stream"/>.</summary>
    internal void Run(GroupedGemmContext context) =>
        context.GmmInto(A, B, DeviceCounts, C.Inner, transA: true, options: Options);

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
        assertClose(DeviceData.Download(C.Inner), Expected, Dtype, what);
        C.AssertGuardsUntouched(what);
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
