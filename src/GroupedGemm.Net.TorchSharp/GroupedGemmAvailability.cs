using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// Whether <see cref="GroupedGemmTorch.gmm"/> runs on a device: always on the CPU (torch's own matmul); on a CUDA
/// device when the native library loads and computes a small product with batch sizes on the device (the layers keep
/// them there). A build without the CUTLASS backends (cuBLAS takes host counts only), a card it does not cover or a
/// missing library answer false with the reason. The answer is cached per device.
/// </summary>
internal static class GroupedGemmAvailability
{
    private static readonly ConcurrentDictionary<int, string?> s_reasons = new();

    /// <summary>Probes (once per device) and returns whether grouped GEMM runs on <paramref name="device"/>.</summary>
    /// <param name="device">A torch device.</param>
    /// <param name="reason">Why not, or null.</param>
    /// <returns>True when it runs.</returns>
    internal static bool IsAvailable(Device device, out string? reason)
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

        reason = s_reasons.GetOrAdd(device.index < 0 ? 0 : device.index, _ => Probe(device));
        return reason is null;
    }

    private static string? Probe(Device device)
    {
        try
        {
            using Tensor a = zeros([4, 8], ScalarType.BFloat16, device);
            using Tensor b = zeros([2, 8, 8], ScalarType.BFloat16, device);
            using Tensor counts = tensor(new long[] { 1, 3 }, device: device);
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
