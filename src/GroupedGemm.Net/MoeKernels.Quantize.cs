using GroupedGemm.Interop;

namespace GroupedGemm;

// FP8 quantization for the scaled grouped GEMM: activations with row-wise or 1×B scales (optionally gathered first,
// the MoE dispatch fused with its quantization) and weights with B×B block scales. (No XML summary here: the class's
// summary is in MoeKernels.cs.)
public static unsafe partial class MoeKernels
{
    /// <summary>
    /// Quantizes x [rows, cols] to FP8 with one Float32 scale per row and block of <paramref name="blockCols"/> columns
    /// (0: the whole row, torch._scaled_grouped_mm's row-wise scales; 128: DeepGEMM's 1×128 activation blocks):
    /// scale = amax / max(q type) (1 for an all-zero block), rounded up to a power of two with
    /// <paramref name="powerOfTwoScales"/>, q = x / scale rounded to nearest and saturated, so that q · scale reproduces
    /// x to FP8 precision (<see cref="Fp8Reference.QuantizeRows"/> is the float64 reference).
    /// </summary>
    /// <param name="x">[rows, cols], a float type.</param>
    /// <param name="q">Output [rows, cols], <see cref="DType.Float8E4M3"/> or <see cref="DType.Float8E5M2"/>.</param>
    /// <param name="scales">Output Float32, rows · blocks elements ([rows] or [rows, ceil(cols / blockCols)]).</param>
    /// <param name="blockCols">Columns per scale; 0 for one scale per row.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <param name="powerOfTwoScales">
    /// Each scale rounded up to a power of two, 2^ceil(log2(amax / max)) (DeepGEMM's UE8M0 scales, held in Float32):
    /// dequantization is an exponent shift, at the cost of at most one bit of the codes' range.
    /// </param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void QuantizeFp8Rows(DeviceTensor x, DeviceTensor q, DeviceTensor scales, long blockCols = 0,
        CudaStream? stream = null, bool powerOfTwoScales = false)
    {
        RequireFloat(x, 2, nameof(x));
        long rows = x.Shape[0], cols = x.Shape[1];
        QuantizeRows(x, rows, null, 1, rows, cols, q, scales, blockCols, stream, powerOfTwoScales);
    }

    /// <summary>
    /// The MoE dispatch fused with its quantization: row i of q is row <c>index[i] / indexDivisor</c> of
    /// <paramref name="source"/> quantized as in <see cref="QuantizeFp8Rows"/> (a negative index, or one past the
    /// source's rows, gives a zero row with scale 1), as <see cref="GatherRows"/> then <see cref="QuantizeFp8Rows"/> would.
    /// </summary>
    /// <param name="source">[tokens, cols], a float type.</param>
    /// <param name="index">[rows], Int32 (e.g. the sorted slots of <see cref="SortByExpert"/>).</param>
    /// <param name="indexDivisor">Divides each index (top-k for sorted slots); at least 1.</param>
    /// <param name="q">Output [rows, cols], FP8.</param>
    /// <param name="scales">Output Float32, rows · blocks elements.</param>
    /// <param name="blockCols">Columns per scale; 0 for one scale per row.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <param name="powerOfTwoScales">Each scale rounded up to a power of two, as in <see cref="QuantizeFp8Rows"/>.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatherQuantizeFp8(DeviceTensor source, DeviceTensor index, int indexDivisor, DeviceTensor q,
        DeviceTensor scales, long blockCols = 0, CudaStream? stream = null, bool powerOfTwoScales = false)
    {
        RequireFloat(source, 2, nameof(source));
        RequireDType(index, DType.Int32, 1, nameof(index));
        ArgumentOutOfRangeException.ThrowIfLessThan(indexDivisor, 1);
        QuantizeRows(source, source.Shape[0], index, indexDivisor, index.Shape[0], source.Shape[1], q, scales, blockCols, stream,
            powerOfTwoScales);
    }

    /// <summary>
    /// Quantizes weights w [batch, rows, cols] (e.g. [E, K, N] or [E, N, K]) to FP8 with one Float32 scale per
    /// <paramref name="block"/> × <paramref name="block"/> block (DeepGEMM's 128×128): scales [batch, ceil(rows/block),
    /// ceil(cols/block)]; scale (power-of-two scales included) and rounding as in <see cref="QuantizeFp8Rows"/>.
    /// </summary>
    /// <param name="w">[batch, rows, cols], a float type.</param>
    /// <param name="q">Output of the same shape, FP8.</param>
    /// <param name="scales">Output Float32 with batch · ceil(rows/block) · ceil(cols/block) elements.</param>
    /// <param name="block">The block edge; at least 1.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <param name="powerOfTwoScales">Each scale rounded up to a power of two, as in <see cref="QuantizeFp8Rows"/>.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void QuantizeFp8Blocks(DeviceTensor w, DeviceTensor q, DeviceTensor scales, long block = 128,
        CudaStream? stream = null, bool powerOfTwoScales = false)
    {
        RequireFloat(w, 3, nameof(w));
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        long batch = w.Shape[0], rows = w.Shape[1], cols = w.Shape[2];
        RequireFp8(q, nameof(q));
        RequireShape(q, nameof(q), batch, rows, cols);
        // Formed exactly: with an empty extent w holds no element whatever the others, so batch · (its row blocks)
        // can pass int64 before the 0. The count itself is at most w's element count (each block count is at most its
        // extent), or 0.
        long count = (long)TensorShape.Product(batch, TensorShape.Blocks(rows, block), TensorShape.Blocks(cols, block));
        RequireDType(scales, DType.Float32, nameof(scales));
        RequireCount(scales, count, nameof(scales));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (w, nameof(w)), (q, nameof(q)), (scales, nameof(scales)));
        NativeStatus.Check(NativeMethods.gg_moe_quantize_fp8_blocks((void*)lease.Pointer(w), batch, rows, cols, block,
            (GgDType)w.DType, (void*)lease.Pointer(q), (GgDType)q.DType, (float*)lease.Pointer(scales), count,
            (int)Flags(powerOfTwoScales), (void*)lease.Stream(stream)));
    }

    private static void QuantizeRows(DeviceTensor x, long sourceRows, DeviceTensor? index, int divisor, long rows, long cols,
        DeviceTensor q, DeviceTensor scales, long blockCols, CudaStream? stream, bool powerOfTwoScales)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockCols);
        RequireFp8(q, nameof(q));
        RequireShape(q, nameof(q), rows, cols);
        long perRow = blockCols == 0 ? 1 : TensorShape.Blocks(cols, blockCols);
        RequireDType(scales, DType.Float32, nameof(scales));
        RequireCount(scales, checked(rows * perRow), nameof(scales));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (x, nameof(x)), (index, nameof(index)), (q, nameof(q)),
            (scales, nameof(scales)));
        NativeStatus.Check(NativeMethods.gg_moe_quantize_fp8_rows((void*)lease.Pointer(x), sourceRows,
            (int*)lease.Pointer(index), divisor, rows, cols, blockCols, (GgDType)x.DType, (void*)lease.Pointer(q),
            (GgDType)q.DType, (float*)lease.Pointer(scales), scales.ElementCount, (int)Flags(powerOfTwoScales),
            (void*)lease.Stream(stream)));
    }

    private static GgQuantizeFlags Flags(bool powerOfTwoScales) =>
        powerOfTwoScales ? GgQuantizeFlags.Pow2Scales : GgQuantizeFlags.Default;

    private static void RequireFp8(DeviceTensor tensor, string name)
    {
        RequireLive(tensor, name);
        if (!tensor.DType.IsFloat8())
            throw new ArgumentException($"{name} is {Format(tensor)}; Float8E4M3 or Float8E5M2 is required.", name);
    }
}
