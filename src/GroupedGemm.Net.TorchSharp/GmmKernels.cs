using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>Runs one validated grouped GEMM on the device the operands live on (no autograd here).</summary>
internal static class GmmKernels
{
    [ThreadStatic]
    private static int t_calls;

    /// <summary>How many products this thread has computed (tests use it to see which gradients backward computed).</summary>
    internal static int CallsOnThisThread => t_calls;

    /// <summary>Validates and computes one product.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <param name="batchSizes">Batch sizes.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">Right operand stored transposed.</param>
    /// <returns>The product, a new tensor.</returns>
    internal static Tensor Compute(Tensor a, Tensor b, Tensor batchSizes, bool transA, bool transB)
    {
        TorchGmmDims dims = TorchGmmValidation.Validate(a, b, batchSizes, transA, transB);
        t_calls++;
        return a.device_type == DeviceType.CUDA
            ? CudaGmm.Compute(a, b, batchSizes, dims, transA, transB)
            : CpuGmm.Compute(a, b, dims.HostCounts!, transA, transB);
    }
}
