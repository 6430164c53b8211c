using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// The CUDA path: GroupedGemm.Net's native grouped GEMM on the tensors' device memory (no copies), into an output
/// torch allocates, on torch's current stream. Not yet run on a GPU (see docs/torchsharp.md).
/// </summary>
/// <remarks>
/// <para>
/// Stream: TorchSharp 0.107 exposes no CUDA stream API (<c>torch.cuda</c> has is_available, device_count,
/// manual_seed and synchronize only), so a TorchSharp program cannot change torch's current stream, which stays
/// c10's default stream for the device: CUDA's legacy default stream, handle 0. The product is queued there
/// (<see cref="CudaStream.Default"/>), ordered after the kernels torch queued that wrote a and b and before the ones
/// that will read the output, with no synchronisation. Native code that sets another current stream through
/// c10::cuda::setCurrentCUDAStream is not seen.
/// </para>
/// <para>
/// Lifetime: the output comes from torch.empty (torch's caching allocator). The wrapped views do not own memory;
/// the torch tensors are kept alive until the call has been queued, and the caching allocator keeps freed blocks
/// for reuse on the same stream, so queued work stays valid.
/// </para>
/// </remarks>
internal static class CudaGmm
{
    private static readonly GmmOptions s_onTorchStream = new() { Stream = CudaStream.Default };

    /// <summary>Computes one validated product on the operands' CUDA device.</summary>
    /// <param name="a">[M, K].</param>
    /// <param name="b">[E, K, N], [E, N, K] (transB) or [M, N] (transA).</param>
    /// <param name="batchSizes">Batch sizes, on the CPU or on the operands' device.</param>
    /// <param name="dims">The validated sizes.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <returns>The product, a new tensor on the operands' device.</returns>
    internal static Tensor Compute(Tensor a, Tensor b, Tensor batchSizes, TorchGmmDims dims, bool transA, bool transB)
    {
        int device = a.device_index;
        DType dtype = ToDType(a.dtype);
        Tensor c = empty(dims.OutputShape(transA), a.dtype, a.device);
        try
        {
            using DeviceTensor da = Wrap(a, dtype, device);
            using DeviceTensor db = Wrap(b, dtype, device);
            using DeviceTensor dc = Wrap(c, dtype, device);
            GroupedGemmContext context = Ops.ContextFor(device);
            if (dims.HostCounts is long[] counts)
            {
                context.GmmInto(da, db, counts, dc, transA, transB, options: s_onTorchStream);
            }
            else
            {
                using DeviceTensor counts2 = Wrap(batchSizes, DType.Int64, device);
                context.GmmInto(da, db, counts2, dc, transA, transB, options: s_onTorchStream);
            }

            GC.KeepAlive(a);
            GC.KeepAlive(b);
            GC.KeepAlive(batchSizes);
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private static DeviceTensor Wrap(Tensor tensor, DType dtype, int device) =>
        DeviceTensor.Wrap(TorchTensorMemory.DataPointer(tensor), dtype, tensor.shape, device);

    private static DType ToDType(ScalarType type) => type switch
    {
        ScalarType.BFloat16 => DType.BFloat16,
        ScalarType.Float16 => DType.Float16,
        ScalarType.Float32 => DType.Float32,
        _ => throw new ArgumentException($"{type} has no native grouped GEMM on CUDA.", nameof(type)),
    };
}
