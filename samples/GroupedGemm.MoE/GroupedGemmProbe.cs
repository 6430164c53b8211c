namespace GroupedGemm.MoE;

/// <summary>
/// Whether this build and device can run a grouped GEMM with device-resident counts (the grouped path needs it:
/// the counts never leave the device). The cuBLAS backends take host counts only, so a build without CUTLASS, or a
/// device it does not cover, cannot; the sample then falls back to the padded path, as the seed's layers do.
/// </summary>
internal static class GroupedGemmProbe
{
    public static bool IsAvailable(GroupedGemmContext context, DType dtype, CudaStream stream, out string? reason)
    {
        try
        {
            using DeviceTensor a = DeviceTensor.Allocate(dtype, 4, 8);
            using DeviceTensor b = DeviceTensor.Allocate(dtype, 2, 8, 8);
            using DeviceTensor c = DeviceTensor.Allocate(dtype, 4, 8);
            using DeviceTensor counts = DeviceTensor.FromArray(new long[] { 1, 3 }, 2);
            a.Zero(stream);
            b.Zero(stream);
            context.GmmInto(a, b, counts, c, options: new GmmOptions { Stream = stream });
            stream.Synchronize();
            reason = null;
            return true;
        }
        catch (GroupedGemmException e) when (e.Status is GroupedGemmStatus.NotSupported or GroupedGemmStatus.BackendNotCompiled)
        {
            reason = e.Message;
            return false;
        }
    }
}
