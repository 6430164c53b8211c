using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// Grouped GEMM on TorchSharp tensors with the semantics of tgale96/grouped_gemm's <c>ops.gmm</c>, differentiable
/// through TorchSharp's autograd.
/// </summary>
/// <remarks>
/// <para>
/// CUDA tensors (bf16, fp16, fp32) run GroupedGemm.Net's native grouped GEMM on the tensors' own device memory, with
/// no copies, into an output that torch allocates (its caching allocator), on torch's current CUDA stream. See
/// <c>docs/torchsharp.md</c>: this path has not yet been run on a GPU.
/// </para>
/// <para>
/// CPU tensors (bf16, fp16, fp32, fp64) compute the same product with torch's own matmul, one expert at a time, so
/// code and tests behave the same without a GPU. This is a reference path, not a fast one.
/// </para>
/// </remarks>
public static class GroupedGemmTorch
{
    /// <summary>
    /// Grouped GEMM. With E = <c>batchSizes.shape[0]</c> and M = the sum of the batch sizes, rows grouped by expert:
    /// forward <paramref name="a"/> [M, K] · <paramref name="b"/> [E, K, N] → [M, N];
    /// <paramref name="transB"/>: b is [E, N, K] and row block e is multiplied by b[e]ᵀ;
    /// <paramref name="transA"/> (the weight-gradient form): a [M, K], b [M, N] → [E, K, N] with c[e] = a_eᵀ · b_e.
    /// </summary>
    /// <param name="a">[M, K], contiguous; same device and dtype as <paramref name="b"/>.</param>
    /// <param name="b">[E, K, N]; [E, N, K] with <paramref name="transB"/>; [M, N] with <paramref name="transA"/>; contiguous.</param>
    /// <param name="batchSizes">
    /// Rows per expert: a 1-D int64 tensor of E values, on the CPU (values checked: non-negative, summing to M) or on
    /// the operands' CUDA device (not checked, to avoid a synchronisation; the native library clamps bad counts so
    /// nothing is written out of bounds).
    /// </param>
    /// <param name="transA">Weight-gradient form (not with <paramref name="transB"/>).</param>
    /// <param name="transB">b stored as [E, N, K].</param>
    /// <returns>
    /// A new contiguous tensor, [M, N] or [E, K, N], of the operands' dtype and device. When autograd is on and
    /// <paramref name="a"/> or <paramref name="b"/> requires grad, it is connected to the graph and backward computes
    /// only the gradients that are needed.
    /// </returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">
    /// A tensor is disposed, on the wrong device, of an unsupported dtype, not contiguous, of the wrong shape, or the
    /// batch sizes do not match the operands.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A CPU batch size is negative.</exception>
#pragma warning disable CA1707, IDE1006 // named as tgale96's ops.gmm and TorchSharp's own lower-case API
    public static Tensor gmm(Tensor a, Tensor b, Tensor batchSizes, bool transA = false, bool transB = false)
#pragma warning restore CA1707, IDE1006
    {
        // Validate before building an autograd node, so bad arguments surface as the ArgumentExceptions above.
        TorchGmmValidation.Validate(a, b, batchSizes, transA, transB);
        bool differentiable = is_grad_enabled() && (a.requires_grad || b.requires_grad);
        return differentiable
            ? GmmFunction.apply(a, b, batchSizes, transA, transB)
            : GmmKernels.Compute(a, b, batchSizes, transA, transB);
    }

    /// <summary>
    /// Whether <see cref="gmm"/> runs on <paramref name="device"/> for <paramref name="dtype"/>: always on the CPU; on
    /// CUDA when the native library loads and runs a small product, with batch sizes on the device for bf16 and fp16
    /// (the CUTLASS backends) and on the host for fp32 (cuBLAS only); probed once per device and dtype.
    /// </summary>
    /// <param name="device">A torch device.</param>
    /// <param name="dtype">The operands' dtype.</param>
    /// <param name="reason">Why not, or null.</param>
    /// <returns>True when grouped GEMM runs there.</returns>
    public static bool IsAvailable(Device device, ScalarType dtype, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(device);
        return GroupedGemmAvailability.IsAvailable(device, dtype, out reason);
    }
}
