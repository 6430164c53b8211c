using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// Whether <see cref="GroupedGemmTorch.gmm"/> runs on a device for a dtype: always on the CPU (torch's own matmul); on
/// a CUDA device when the native library loads and computes a small product with the batch sizes where the MoE layers
/// keep them (<see cref="NeedsHostCounts"/>). A build without the CUTLASS backends, a card it does not cover, a missing
/// library or cuBLAS answer false with the reason. The answer is cached per device and dtype.
/// </summary>
internal static class GroupedGemmAvailability
{
    private static readonly ConcurrentDictionary<(int Device, ScalarType DType), string?> s_reasons = new();

    /// <summary>
    /// Whether a CUDA grouped GEMM of this dtype needs its batch sizes on the host: float32 runs on the cuBLAS
    /// backends only, which take host counts (the CUTLASS backends, which read counts on the device, are bf16/fp16).
    /// </summary>
    /// <param name="dtype">The operands' dtype.</param>
    /// <returns>True for float32.</returns>
    internal static bool NeedsHostCounts(ScalarType dtype) => dtype == ScalarType.Float32;

    /// <summary>Probes (once per device and dtype) and returns whether grouped GEMM runs there.</summary>
    /// <param name="device">A torch device.</param>
    /// <param name="dtype">The operands' dtype.</param>
    /// <param name="reason">Why not, or null.</param>
    /// <returns>True when it runs.</returns>
    internal static bool IsAvailable(Device device, ScalarType dtype, out string? reason)
    {
        if (device.type == DeviceType.CPU)
        {
            reason = null;
            return true;
        }

        if (device.type != DeviceType.CUDA)
        {
            reason = $"grouped GEMM runs on CUDA (or CPU) tensors, not on {device.type}";
            return false;
        }

        reason = s_reasons.GetOrAdd((device.index < 0 ? 0 : device.index, dtype), key => Probe(device, key.DType));
        return reason is null;
    }

    private static string? Probe(Device device, ScalarType dtype)
    {
        try
        {
            using Tensor a = zeros([4, 8], dtype, device);
            using Tensor b = zeros([2, 8, 8], dtype, device);
            using Tensor counts = tensor(new long[] { 1, 3 }, device: NeedsHostCounts(dtype) ? CPU : device);
            using Tensor c = GmmKernels.Compute(a, b, counts, transA: false, transB: false);
            cuda.synchronize(device);
            return null;
        }
#pragma warning disable CA1031 // any failure (library missing, backend not compiled, card not covered) means: fall back
        catch (Exception e)
#pragma warning restore CA1031
        {
            return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
        }
    }
}
