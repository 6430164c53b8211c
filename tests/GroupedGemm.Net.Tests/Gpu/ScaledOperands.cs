using GroupedGemm.Tests.Support;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Random FP8 operands of one scaled grouped GEMM on the device, with their host copies for the float64 reference:
/// codes of values in [-224, 224) and positive scales in [1e-3, 2e-3), row-wise ([M] and [E, N]) or per block
/// ([M, ceil(K/128)] and [E, ceil(N/128), ceil(K/128)]).
/// </summary>
internal sealed record ScaledOperands(DeviceTensor X, byte[] XCodes, DeviceTensor XScale, float[] XScales,
    DeviceTensor W, byte[] WCodes, DeviceTensor WScale, float[] WScales, int K, int N, bool TransB, DType XType, DType WType,
    ScaleMode Mode = ScaleMode.Rowwise)
    : IDisposable
{
    /// <summary>Frees the four device tensors.</summary>
    public void Dispose()
    {
        X.Dispose();
        XScale.Dispose();
        W.Dispose();
        WScale.Dispose();
    }

    /// <summary>Operands for <paramref name="counts"/> rows per expert: x [M, K], w [E, K, N] (or [E, N, K] with <paramref name="transB"/>), row-wise scales.</summary>
    /// <param name="random">The source of the values.</param>
    /// <param name="counts">Rows per expert; M is their sum and E their number.</param>
    /// <param name="k">K.</param>
    /// <param name="n">N.</param>
    /// <param name="transB">Whether w is stored [E, N, K].</param>
    /// <param name="xType">FP8 type of x.</param>
    /// <param name="wType">FP8 type of w.</param>
    /// <param name="mode">Row-wise or block scales.</param>
    /// <returns>The operands (the caller disposes them).</returns>
    public static ScaledOperands Make(Random random, long[] counts, int k, int n, bool transB,
        DType xType = DType.Float8E4M3, DType wType = DType.Float8E4M3, ScaleMode mode = ScaleMode.Rowwise)
    {
        long m = counts.Sum(), experts = counts.Length;
        byte[] xCodes = Codes(random, m * k, xType);
        byte[] wCodes = Codes(random, experts * k * n, wType);
        long kBlocks = (k + ScaledGmmValidation.ScaleBlock - 1) / ScaledGmmValidation.ScaleBlock;
        long nBlocks = (n + ScaledGmmValidation.ScaleBlock - 1) / ScaledGmmValidation.ScaleBlock;
        long[] xScaleShape = mode == ScaleMode.Rowwise ? [m] : [m, kBlocks];
        long[] wScaleShape = mode == ScaleMode.Rowwise ? [experts, n] : [experts, nBlocks, kBlocks];
        float[] xScales = Scales(random, xScaleShape.Aggregate(1L, (a, b) => a * b));
        float[] wScales = Scales(random, wScaleShape.Aggregate(1L, (a, b) => a * b));
        DeviceTensor x = DeviceTensor.Allocate(xType, m, k);
        if (xCodes.Length > 0) x.CopyFrom<byte>(xCodes);  // K = 0 holds no codes
        DeviceTensor w = transB ? DeviceTensor.Allocate(wType, experts, n, k) : DeviceTensor.Allocate(wType, experts, k, n);
        if (wCodes.Length > 0) w.CopyFrom<byte>(wCodes);
        return new ScaledOperands(x, xCodes, DeviceTensor.FromArray(xScales, xScaleShape), xScales, w, wCodes,
            DeviceTensor.FromArray(wScales, wScaleShape), wScales, k, n, transB, xType, wType, mode);
    }

    /// <summary>The float64 product of the dequantized operands for <paramref name="counts"/>.</summary>
    /// <param name="counts">Rows per expert.</param>
    /// <returns>[M, N].</returns>
    public double[] Expected(long[] counts) =>
        Fp8Reference.ScaledGmm(XCodes, XScales, WCodes, WScales, counts, K, N, TransB, Mode, XType, WType);

    private static float[] Scales(Random random, long count) =>
        Enumerable.Range(0, (int)count).Select(_ => (float)(1e-3 * (1 + random.NextDouble()))).ToArray();

    private static byte[] Codes(Random random, long count, DType dtype) =>
        TestRandom.Uniform(random, count).Select(v => Fp8Reference.Encode(v * 224, dtype)).ToArray();
}
