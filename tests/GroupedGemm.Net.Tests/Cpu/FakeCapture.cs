using GroupedGemm.Interop;

namespace GroupedGemm.Tests.Cpu;

/// <summary>A graph capture without a device: what a captured call records, and so what the graph would hold.</summary>
internal static class FakeCapture
{
    /// <summary>Records one call that takes <paramref name="tensor"/>, as a call inside <c>CudaGraph.Capture</c> would.</summary>
    /// <param name="tensor">The tensor the captured call uses.</param>
    /// <returns>The recorder, detached; disposing it stands for disposing the graph.</returns>
    internal static CaptureRecorder OneCallOn(DeviceTensor tensor)
    {
        CaptureRecorder recorder = CaptureRecorder.Begin();
        try
        {
            using (var lease = new CallLease()) _ = lease.Pointer(tensor);
        }
        finally
        {
            recorder.Detach();
        }

        return recorder;
    }
}
