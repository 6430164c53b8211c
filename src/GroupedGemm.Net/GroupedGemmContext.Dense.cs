using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>Dense (strided-batched) GEMMs of <see cref="GroupedGemmContext"/>, through cuBLAS.</summary>
public sealed unsafe partial class GroupedGemmContext
{
    /// <summary>
    /// Dense GEMM c = op(a) · op(b), fp32 accumulation: a [M, K] (or [K, M] with <paramref name="transA"/>),
    /// b [K, N] (or [N, K] with <paramref name="transB"/>), each optionally with a leading batch dimension;
    /// a 2-D operand is shared by every batch entry.
    /// </summary>
    /// <param name="a">Left operand, 2-D or 3-D.</param>
    /// <param name="b">Right operand, 2-D or 3-D.</param>
    /// <param name="transA">a stored transposed.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <param name="stream">The stream; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <returns>A new [M, N] (or [batch, M, N]) tensor.</returns>
    public DeviceTensor Gemm(DeviceTensor a, DeviceTensor b, bool transA = false, bool transB = false, CudaStream? stream = null)
    {
        GemmDims dims = GemmValidation.Validate(a, b, null, transA, transB, Device);
        using var outputs = new PendingOutputs();
        DeviceTensor c = outputs.Allocate(Device, a.DType, dims.OutputShape(), stream, Allocator);
        RunGemm(a, b, c, dims, transA, transB, false, stream);
        return outputs.HandOver(c);
    }

    /// <summary>Dense GEMM into an existing output; see <see cref="Gemm"/>.</summary>
    /// <param name="a">Left operand, 2-D or 3-D.</param>
    /// <param name="b">Right operand, 2-D or 3-D.</param>
    /// <param name="c">The output, [M, N] or [batch, M, N].</param>
    /// <param name="transA">a stored transposed.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <param name="accumulate">Add to c instead of overwriting it.</param>
    /// <param name="stream">The stream; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    public void GemmInto(DeviceTensor a, DeviceTensor b, DeviceTensor c, bool transA = false, bool transB = false,
        bool accumulate = false, CudaStream? stream = null)
    {
        GemmDims dims = GemmValidation.Validate(a, b, c, transA, transB, Device);
        RunGemm(a, b, c, dims, transA, transB, accumulate, stream);
    }

    private void RunGemm(DeviceTensor a, DeviceTensor b, DeviceTensor c, GemmDims dims, bool transA, bool transB,
        bool accumulate, CudaStream? stream)
    {
        using var lease = new CallLease();
        var args = new GgGemmArgs
        {
            A = (void*)lease.Pointer(a),
            B = (void*)lease.Pointer(b),
            C = (void*)lease.Pointer(c),
            M = dims.M,
            N = dims.N,
            K = dims.K,
            BatchCount = dims.Batch,
            StrideA = dims.StrideA,
            StrideB = dims.StrideB,
            StrideC = dims.StrideC,
            Dtype = (GgDType)a.DType,
            TransA = transA ? 1 : 0,
            TransB = transB ? 1 : 0,
            Accumulate = accumulate ? 1 : 0,
            Stream = (void*)lease.Stream(stream, Device),
        };
        NativeStatus.Check(NativeMethods.gg_gemm(lease.Handle(_handle, this), &args));
    }
}
