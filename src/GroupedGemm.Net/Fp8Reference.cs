namespace GroupedGemm;

/// <summary>
/// FP8 on the CPU: encode and decode of OCP E4M3 / E5M2, the quantize kernels' steps (row-wise, 1×B and B×B scales),
/// dequantization, and the scaled grouped GEMM in float64 over the dequantized operands. Meant for tests, the
/// library's and its consumers'.
/// </summary>
/// <remarks>
/// The quantize references take the kernels' float32 steps (amax, scale = amax / max, x / scale, one rounding to
/// FP8 with saturation), so that a device result can be compared code for code.
/// </remarks>
public static class Fp8Reference
{
    /// <summary>Largest finite value of an FP8 type: 448 for E4M3, 57344 for E5M2.</summary>
    /// <param name="dtype"><see cref="DType.Float8E4M3"/> or <see cref="DType.Float8E5M2"/>.</param>
    /// <returns>The largest finite value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not an FP8 type.</exception>
    public static double MaxFinite(DType dtype) => Format(dtype).Max;

    /// <summary>The value of an FP8 code (NaN for the NaN codes, ±infinity for E5M2's infinities).</summary>
    /// <param name="bits">The code.</param>
    /// <param name="dtype">The FP8 type.</param>
    /// <returns>Its value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not an FP8 type.</exception>
    public static double Decode(byte bits, DType dtype)
    {
        Fp8Format f = Format(dtype);
        int sign = bits >> 7, exponent = (bits >> f.ManBits) & ((1 << f.ExpBits) - 1), mantissa = bits & ((1 << f.ManBits) - 1);
        double value;
        if (dtype == DType.Float8E4M3 && exponent == 15 && mantissa == 7) return double.NaN;
        if (dtype == DType.Float8E5M2 && exponent == 31) value = mantissa == 0 ? double.PositiveInfinity : double.NaN;
        else if (exponent == 0) value = Math.ScaleB(mantissa, 1 - f.Bias - f.ManBits);
        else value = Math.ScaleB((1 << f.ManBits) + mantissa, exponent - f.Bias - f.ManBits);
        return sign == 1 ? -value : value;
    }

    /// <summary>
    /// The FP8 code nearest to <paramref name="value"/> (ties to even), saturated to the finite range (±infinity gives
    /// ±max, as the kernels' saturating conversion does); NaN, of either sign, gives 0x7F.
    /// </summary>
    /// <param name="value">The value.</param>
    /// <param name="dtype">The FP8 type.</param>
    /// <returns>The code.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not an FP8 type.</exception>
    public static byte Encode(double value, DType dtype)
    {
        Fp8Format f = Format(dtype);
        if (double.IsNaN(value)) return 0x7F;
        int sign = value < 0 || (value == 0 && double.IsNegative(value)) ? 0x80 : 0;
        double a = Math.Abs(value);
        if (a >= f.Max) return (byte)(sign | f.MaxCode);
        int minExponent = 1 - f.Bias;  // of the normal numbers; subnormals share its quantum
        int e = a == 0 ? minExponent : Math.Max(Math.ILogB(a), minExponent);
        double quantum = Math.ScaleB(1.0, e - f.ManBits);
        double r = Math.Round(a / quantum, MidpointRounding.ToEven) * quantum;
        if (r >= f.Max) return (byte)(sign | f.MaxCode);
        if (r == 0) return (byte)sign;
        int re = Math.ILogB(r);
        if (re < minExponent) return (byte)(sign | (int)(r / Math.ScaleB(1.0, minExponent - f.ManBits)));
        int mantissa = (int)(r / Math.ScaleB(1.0, re - f.ManBits)) - (1 << f.ManBits);
        return (byte)(sign | ((re + f.Bias) << f.ManBits) | mantissa);
    }

    /// <summary>
    /// What <see cref="MoeKernels.QuantizeFp8Rows"/> computes: x [rows, cols] to FP8 with one scale per row and block of
    /// <paramref name="blockCols"/> columns (0: whole rows); scale = amax / max (1 for an all-zero block), rounded up to
    /// a power of two with <paramref name="powerOfTwoScales"/> (<see cref="PowerOfTwoAtLeast"/>; 1 where amax / max
    /// underflows to 0, as in the kernels).
    /// </summary>
    /// <param name="x">Row-major [rows, cols] (float32 values, e.g. from bf16).</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Columns.</param>
    /// <param name="blockCols">Columns per scale; 0 for one scale per row.</param>
    /// <param name="dtype">The FP8 type.</param>
    /// <param name="q">Output codes, rows · cols.</param>
    /// <param name="scales">Output scales, rows · blocks.</param>
    /// <param name="powerOfTwoScales">Each scale rounded up to a power of two.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/>, <paramref name="cols"/> or
    /// <paramref name="blockCols"/> is negative, or <paramref name="dtype"/> is not an FP8 type.</exception>
    /// <exception cref="ArgumentException">x, q or scales does not hold the elements its layout needs (the message
    /// gives the sizes).</exception>
    public static void QuantizeRows(ReadOnlySpan<float> x, int rows, int cols, int blockCols, DType dtype, Span<byte> q,
        Span<float> scales, bool powerOfTwoScales = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(blockCols);
        Format(dtype);
        int width = blockCols == 0 ? Math.Max(cols, 1) : blockCols;
        int blocks = blockCols == 0 ? 1 : (int)TensorShape.Blocks(cols, blockCols);
        ReferenceArgs.Length(x.Length, (Int128)rows * cols, "[rows, cols]", $"rows = {rows}, cols = {cols}", nameof(x));
        ReferenceArgs.Length(q.Length, (Int128)rows * cols, "[rows, cols]", $"rows = {rows}, cols = {cols}", nameof(q));
        ReferenceArgs.Length(scales.Length, (Int128)rows * blocks, "[rows, blocks]",
            $"rows = {rows}, cols = {cols}, blockCols = {blockCols}", nameof(scales));
        if (blocks == 0) return;  // no columns: every row would still be walked
        for (int r = 0; r < rows; r++)
        {
            for (int b = 0; b < blocks; b++)
            {
                int c0 = b * width, c1 = Math.Min(cols, c0 + width);
                var span = new Span2D(cols, r, r + 1, c0, c1);
                scales[(r * blocks) + b] = QuantizeBlock(x, span, dtype, q, powerOfTwoScales);
            }
        }
    }

    /// <summary>
    /// What <see cref="MoeKernels.QuantizeFp8Blocks"/> computes: w [batch, rows, cols] with one scale per block × block
    /// block, as <see cref="QuantizeRows"/> computes it.
    /// </summary>
    /// <param name="w">Row-major [batch, rows, cols].</param>
    /// <param name="batch">Matrices.</param>
    /// <param name="rows">Rows of each.</param>
    /// <param name="cols">Columns of each.</param>
    /// <param name="block">Block edge (128 for DeepGEMM's weights).</param>
    /// <param name="dtype">The FP8 type.</param>
    /// <param name="q">Output codes, batch · rows · cols.</param>
    /// <param name="scales">Output scales [batch, ceil(rows/block), ceil(cols/block)].</param>
    /// <param name="powerOfTwoScales">Each scale rounded up to a power of two.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/>, <paramref name="rows"/> or
    /// <paramref name="cols"/> is negative, <paramref name="block"/> is below 1, or <paramref name="dtype"/> is not an
    /// FP8 type.</exception>
    /// <exception cref="ArgumentException">w, q or scales does not hold the elements its layout needs (the message
    /// gives the sizes).</exception>
    public static void QuantizeBlocks(ReadOnlySpan<float> w, int batch, int rows, int cols, int block, DType dtype,
        Span<byte> q, Span<float> scales, bool powerOfTwoScales = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        Format(dtype);
        int rb = (int)TensorShape.Blocks(rows, block), cb = (int)TensorShape.Blocks(cols, block);
        long plane = (long)rows * cols;
        ReferenceArgs.Length(w.Length, batch * (Int128)plane, "[batch, rows, cols]", $"batch = {batch}, rows = {rows}, cols = {cols}",
            nameof(w));
        ReferenceArgs.Length(q.Length, batch * (Int128)plane, "[batch, rows, cols]", $"batch = {batch}, rows = {rows}, cols = {cols}",
            nameof(q));
        ReferenceArgs.Length(scales.Length, (Int128)batch * rb * cb, "[batch, ceil(rows/block), ceil(cols/block)]",
            $"batch = {batch}, rows = {rows}, cols = {cols}, block = {block}", nameof(scales));
        if (plane == 0) return;  // empty matrices: every one of batch would still be walked
        for (int m = 0; m < batch; m++)
        {
            ReadOnlySpan<float> wm = w.Slice((int)(m * plane), (int)plane);
            Span<byte> qm = q.Slice((int)(m * plane), (int)plane);
            for (int i = 0; i < rb; i++)
            {
                for (int j = 0; j < cb; j++)
                {
                    var span = new Span2D(cols, i * block, Math.Min(rows, (i + 1) * block), j * block, Math.Min(cols, (j + 1) * block));
                    scales[(((m * rb) + i) * cb) + j] = QuantizeBlock(wm, span, dtype, qm, powerOfTwoScales);
                }
            }
        }
    }

    /// <summary>Dequantizes row-wise or 1×B scaled codes: x[r, c] = decode(q[r, c]) · scales[r, c / blockCols].</summary>
    /// <param name="q">Codes [rows, cols].</param>
    /// <param name="scales">Scales [rows, blocks].</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Columns.</param>
    /// <param name="blockCols">Columns per scale; 0 for one scale per row.</param>
    /// <param name="dtype">The FP8 type.</param>
    /// <returns>The values, float64 [rows, cols].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/>, <paramref name="cols"/> or
    /// <paramref name="blockCols"/> is negative, or <paramref name="dtype"/> is not an FP8 type.</exception>
    /// <exception cref="ArgumentException">q or scales does not hold the elements its layout needs (the message gives
    /// the sizes).</exception>
    public static double[] DequantizeRows(ReadOnlySpan<byte> q, ReadOnlySpan<float> scales, int rows, int cols,
        int blockCols, DType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(blockCols);
        Format(dtype);
        int blocks = blockCols == 0 ? 1 : (int)TensorShape.Blocks(cols, blockCols);
        ReferenceArgs.Length(q.Length, (Int128)rows * cols, "[rows, cols]", $"rows = {rows}, cols = {cols}", nameof(q));
        ReferenceArgs.Length(scales.Length, (Int128)rows * blocks, "[rows, blocks]",
            $"rows = {rows}, cols = {cols}, blockCols = {blockCols}", nameof(scales));
        double[] x = new double[q.Length];
        if (cols == 0) return x;  // every row would still be walked
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
                x[((long)r * cols) + c] = Decode(q[(r * cols) + c], dtype) * scales[(r * blocks) + (blockCols == 0 ? 0 : c / blockCols)];
        }

        return x;
    }

    /// <summary>Dequantizes block-scaled codes [batch, rows, cols] with scales [batch, ceil(rows/block), ceil(cols/block)].</summary>
    /// <param name="q">Codes.</param>
    /// <param name="scales">Scales.</param>
    /// <param name="batch">Matrices.</param>
    /// <param name="rows">Rows of each.</param>
    /// <param name="cols">Columns of each.</param>
    /// <param name="block">Block edge.</param>
    /// <param name="dtype">The FP8 type.</param>
    /// <returns>The values, float64 [batch, rows, cols].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/>, <paramref name="rows"/> or
    /// <paramref name="cols"/> is negative, <paramref name="block"/> is below 1, or <paramref name="dtype"/> is not an
    /// FP8 type.</exception>
    /// <exception cref="ArgumentException">q or scales does not hold the elements its layout needs (the message gives
    /// the sizes).</exception>
    public static double[] DequantizeBlocks(ReadOnlySpan<byte> q, ReadOnlySpan<float> scales, int batch, int rows, int cols,
        int block, DType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        Format(dtype);
        int rb = (int)TensorShape.Blocks(rows, block), cb = (int)TensorShape.Blocks(cols, block);
        long plane = (long)rows * cols;
        ReferenceArgs.Length(q.Length, batch * (Int128)plane, "[batch, rows, cols]", $"batch = {batch}, rows = {rows}, cols = {cols}",
            nameof(q));
        ReferenceArgs.Length(scales.Length, (Int128)batch * rb * cb, "[batch, ceil(rows/block), ceil(cols/block)]",
            $"batch = {batch}, rows = {rows}, cols = {cols}, block = {block}", nameof(scales));
        double[] w = new double[q.Length];
        if (plane == 0) return w;  // batch · rows empty rows would still be walked
        for (int m = 0; m < batch; m++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    long at = (m * plane) + ((long)r * cols) + c;
                    w[at] = Decode(q[(int)at], dtype) * scales[(((m * rb) + (r / block)) * cb) + (c / block)];
                }
            }
        }

        return w;
    }

    /// <summary>
    /// The scaled grouped GEMM in float64 over the dequantized operands: x [M, K] · w [E, K, N] (or [E, N, K] with
    /// <paramref name="transB"/>) → [M, N]. Row-wise: xScale [M], wScale [E, N]. Block-wise (DeepGEMM): xScale
    /// [M, ceil(K/128)], wScale [E, ceil(N/128), ceil(K/128)] indexed [n block, k block] in both layouts.
    /// </summary>
    /// <param name="x">Codes [M, K].</param>
    /// <param name="xScale">Scales of x.</param>
    /// <param name="w">Codes [E, K, N] or [E, N, K].</param>
    /// <param name="wScale">Scales of w.</param>
    /// <param name="batchSizes">Rows per expert.</param>
    /// <param name="k">K.</param>
    /// <param name="n">N.</param>
    /// <param name="transB">Whether w is [E, N, K].</param>
    /// <param name="mode">The scale mode.</param>
    /// <param name="xType">FP8 type of x.</param>
    /// <param name="wType">FP8 type of w.</param>
    /// <returns>The product [M, N], float64.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> or <paramref name="n"/> is negative,
    /// <paramref name="mode"/> is not a defined <see cref="ScaleMode"/>, <paramref name="xType"/> or
    /// <paramref name="wType"/> is not an FP8 type, a batch size is negative or they sum past <see cref="long.MaxValue"/>,
    /// or the product would hold more than <see cref="Array.MaxLength"/> elements.</exception>
    /// <exception cref="ArgumentException">x, w or a scale span does not hold the elements its layout needs (the
    /// message gives the sizes).</exception>
    public static double[] ScaledGmm(ReadOnlySpan<byte> x, ReadOnlySpan<float> xScale, ReadOnlySpan<byte> w,
        ReadOnlySpan<float> wScale, ReadOnlySpan<long> batchSizes, int k, int n, bool transB, ScaleMode mode,
        DType xType = DType.Float8E4M3, DType wType = DType.Float8E4M3)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "ScaleMode must be Rowwise or Blockwise.");
        Format(xType, nameof(xType));
        Format(wType, nameof(wType));
        long m = ReferenceArgs.Offsets(batchSizes, nameof(batchSizes))[batchSizes.Length];
        int experts = batchSizes.Length;
        const int B = (int)ScaledGmmValidation.ScaleBlock;
        int kb = (int)TensorShape.Blocks(k, B), nb = (int)TensorShape.Blocks(n, B);
        (Int128 xScales, Int128 wScales) = ScaledGmmValidation.ScaleCounts(mode, m, k, n, experts);
        (string xShape, string wShape) = ScaledGmmValidation.ScaleShapes(mode);
        ReferenceArgs.Length(x.Length, (Int128)m * k, "[M, K]", $"M = {m}, K = {k}", nameof(x));
        ReferenceArgs.Length(w.Length, (Int128)experts * k * n, transB ? "[E, N, K]" : "[E, K, N]",
            $"E = {experts}, K = {k}, N = {n}", nameof(w));
        ReferenceArgs.Length(xScale.Length, xScales, xShape, $"M = {m}, K = {k}", nameof(xScale));
        ReferenceArgs.Length(wScale.Length, wScales, wShape, $"E = {experts}, N = {n}, K = {k}", nameof(wScale));

        double[] xd = new double[x.Length];
        for (long r = 0; r < m && k > 0; r++)
        {
            for (int i = 0; i < k; i++)
            {
                double s = mode == ScaleMode.Rowwise ? xScale[(int)r] : xScale[(int)((r * kb) + (i / B))];
                xd[(r * k) + i] = Decode(x[(int)((r * k) + i)], xType) * s;
            }
        }

        double[] wd = new double[w.Length];
        // With N = 0 (or K = 0) w is empty, but the loops would still walk every (expert, K) pair: up to 2^31 · 2^31.
        for (int e = 0; e < experts && k > 0 && n > 0; e++)
        {
            for (int i = 0; i < k; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    long at = transB ? (((long)e * n) + j) * k + i : (((long)e * k) + i) * n + j;
                    double s = mode == ScaleMode.Rowwise ? wScale[(e * n) + j] : wScale[(((e * nb) + (j / B)) * kb) + (i / B)];
                    wd[at] = Decode(w[(int)at], wType) * s;
                }
            }
        }

        return CpuReference.Gmm(xd, wd, batchSizes, k, n, transA: false, transB: transB);
    }

    /// <summary>
    /// The smallest power of two at or above a positive <paramref name="value"/> (a power of two itself stays), as the
    /// quantize kernels round a scale for power-of-two scales: +infinity above 2^127, whose next power of two is no
    /// float. NaN and +infinity (the scales of blocks that hold them) stay as they are.
    /// </summary>
    /// <param name="value">A positive float, NaN or +infinity.</param>
    /// <returns>2^ceil(log2(value)).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is zero or negative, −infinity included
    /// (no scale is).</exception>
    public static float PowerOfTwoAtLeast(float value)
    {
        if (float.IsNaN(value) || float.IsPositiveInfinity(value)) return value;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
        // As a double every float is normal, so ILogB is its exact exponent: value = 2^e · (1 + f), f in [0, 1).
        double d = value;
        int e = Math.ILogB(d);
        return (float)Math.ScaleB(1.0, Math.ScaleB(1.0, e) == d ? e : e + 1);
    }

    private static float QuantizeBlock(ReadOnlySpan<float> x, Span2D s, DType dtype, Span<byte> q, bool powerOfTwoScales)
    {
        float amax = 0f;
        bool nan = false;
        for (int r = s.R0; r < s.R1; r++)
        {
            for (int c = s.C0; c < s.C1; c++)
            {
                float v = x[(r * s.Cols) + c];
                nan |= float.IsNaN(v);
                amax = Math.Max(amax, Math.Abs(v));
            }
        }

        if (nan) amax = float.NaN;
        float scale = amax == 0f ? 1f : amax / (float)MaxFinite(dtype);
        // A subnormal amax divided by max underflows to 0, which PowerOfTwoAtLeast refuses; the kernels' frexpf(0)
        // gives the exponent 0 there, so the scale is 2^0 = 1.
        if (powerOfTwoScales && amax != 0f) scale = scale == 0f ? 1f : PowerOfTwoAtLeast(scale);
        for (int r = s.R0; r < s.R1; r++)
        {
            for (int c = s.C0; c < s.C1; c++)
                q[(r * s.Cols) + c] = Encode(x[(r * s.Cols) + c] / scale, dtype);
        }

        return scale;
    }

    // The type is checked before any size, so that a call with a wrong type and no data is refused for its type too.
    private static Fp8Format Format(DType dtype, string name = "dtype") => dtype switch
    {
        DType.Float8E4M3 => new Fp8Format(4, 3, 7, 448.0, 0x7E),
        DType.Float8E5M2 => new Fp8Format(5, 2, 15, 57344.0, 0x7B),
        _ => throw new ArgumentOutOfRangeException(name, dtype, "Float8E4M3 or Float8E5M2 is required."),
    };

    private readonly record struct Fp8Format(int ExpBits, int ManBits, int Bias, double Max, int MaxCode);

    /// <summary>A rectangle [R0, R1) × [C0, C1) of a row-major matrix with <c>Cols</c> columns.</summary>
    private readonly record struct Span2D(int Cols, int R0, int R1, int C0, int C1);
}
