namespace GroupedGemm;

/// <summary>The sizes of one validated dense (strided-batched) GEMM.</summary>
/// <param name="Batch">Number of products.</param>
/// <param name="M">Rows of each output.</param>
/// <param name="N">Columns of each output.</param>
/// <param name="K">Inner dimension.</param>
/// <param name="StrideA">Elements between consecutive a matrices (0: one a shared by all).</param>
/// <param name="StrideB">Elements between consecutive b matrices (0: one b shared by all).</param>
/// <param name="Batched">Whether the output carries a batch dimension.</param>
internal readonly record struct GemmDims(long Batch, long M, long N, long K, long StrideA, long StrideB, bool Batched)
{
    /// <summary>The output shape: [M, N], or [Batch, M, N].</summary>
    /// <returns>The extents.</returns>
    internal long[] OutputShape() => Batched ? [Batch, M, N] : [M, N];

    /// <summary>Elements between consecutive outputs: M · N, which fits int64 whenever there is an output (0 for an empty batch).</summary>
    internal long StrideC => Batch > 0 ? M * N : 0;
}

/// <summary>Checks of the dense <see cref="GroupedGemmContext.Gemm"/> before it reaches native code.</summary>
internal static class GemmValidation
{
    /// <summary>Validates a dense GEMM: a [M,K] (or [K,M] with transA), b [K,N] (or [N,K] with transB), each optionally with a leading batch dimension.</summary>
    /// <param name="a">Left operand, 2-D or 3-D.</param>
    /// <param name="b">Right operand, 2-D or 3-D (2-D is shared by every batch entry).</param>
    /// <param name="c">Output, or null when the method allocates it.</param>
    /// <param name="transA">a stored transposed.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <param name="device">The device the call runs on.</param>
    /// <returns>The sizes of the call.</returns>
    internal static GemmDims Validate(DeviceTensor? a, DeviceTensor? b, DeviceTensor? c, bool transA, bool transB, int device)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        a.ThrowIfDisposed();
        b.ThrowIfDisposed();
        GmmValidation.CheckFloatType(a, nameof(a));
        GmmValidation.CheckFloatType(b, nameof(b));
        if (a.DType != b.DType)
            throw new ArgumentException($"a is {a.DType} but b is {b.DType}; both must have the same element type.", nameof(b));
        if (a.Rank is not (2 or 3))
            throw new ArgumentException($"a must be 2-D or 3-D (batched) but has shape {TensorShape.Format(a.Shape)}.", nameof(a));
        if (b.Rank is not (2 or 3))
            throw new ArgumentException($"b must be 2-D or 3-D (batched) but has shape {TensorShape.Format(b.Shape)}.", nameof(b));

        int ao = a.Rank - 2, bo = b.Rank - 2;
        long m = transA ? a.Shape[ao + 1] : a.Shape[ao];
        long k = transA ? a.Shape[ao] : a.Shape[ao + 1];
        long bk = transB ? b.Shape[bo + 1] : b.Shape[bo];
        long n = transB ? b.Shape[bo] : b.Shape[bo + 1];
        if (bk != k)
        {
            throw new ArgumentException(
                $"a {TensorShape.Format(a.Shape)}{(transA ? " (transA)" : "")} has K = {k} but b " +
                $"{TensorShape.Format(b.Shape)}{(transB ? " (transB)" : "")} has K = {bk}.", nameof(b));
        }

        long batchA = a.Rank == 3 ? a.Shape[0] : 1, batchB = b.Rank == 3 ? b.Shape[0] : 1;
        if (a.Rank == 3 && b.Rank == 3 && batchA != batchB)
            throw new ArgumentException($"a has batch {batchA} but b has batch {batchB}.", nameof(b));

        bool batched = a.Rank == 3 || b.Rank == 3;
        // The batch of the 3-D operand (both agree when both are): a 2-D operand is shared by its entries, so an empty
        // batch gives an empty output, not one product of a matrix that is not there.
        long batch = a.Rank == 3 ? batchA : batchB;
        // A 3-D operand's matrix fits int64 unless its batch is 0, when it may not (a [0, 2^40, 2^40] is empty) and no
        // matrix is strided over.
        var dims = new GemmDims(batch, m, n, k, a.Rank == 3 && batch > 0 ? m * k : 0, b.Rank == 3 && batch > 0 ? k * n : 0,
            batched);

        GmmValidation.CheckDevice(a, device, nameof(a));
        GmmValidation.CheckDevice(b, device, nameof(b));
        // With K = 0 (or an empty batch) no operand holds the output's sizes: refused here by argument, not by the
        // allocation. An output that is given fits by construction.
        if (c is null) GmmValidation.CheckOutputSize(a.DType, dims.OutputShape(), nameof(b));
        if (c is not null)
        {
            c.ThrowIfDisposed();
            long[] expected = dims.OutputShape();
            if (!c.Shape.SequenceEqual(expected))
            {
                throw new ArgumentException(
                    $"c has shape {TensorShape.Format(c.Shape)} but the product needs {TensorShape.Format(expected)}.", nameof(c));
            }

            if (c.DType != a.DType)
                throw new ArgumentException($"c is {c.DType} but a and b are {a.DType}.", nameof(c));
            GmmValidation.CheckDevice(c, device, nameof(c));
            if (GmmValidation.Overlaps(c, a) || GmmValidation.Overlaps(c, b))
                throw new ArgumentException("c overlaps an input; the output must not alias a or b.", nameof(c));
        }

        return dims;
    }
}
