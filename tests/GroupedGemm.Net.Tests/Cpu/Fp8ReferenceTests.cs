using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>The FP8 float64 reference against hand-computed codes, scales and products.</summary>
[TestFixture]
public class Fp8ReferenceTests
{
    private const DType E4M3 = DType.Float8E4M3;
    private const DType E5M2 = DType.Float8E5M2;

    [TestCase((byte)0x38, E4M3, 1.0)]
    [TestCase((byte)0x7E, E4M3, 448.0)]
    [TestCase((byte)0xFE, E4M3, -448.0)]
    [TestCase((byte)0x08, E4M3, 0.015625)]          // 2^-6, the smallest normal
    [TestCase((byte)0x01, E4M3, 0.001953125)]       // 2^-9, the smallest subnormal
    [TestCase((byte)0x6E, E4M3, 112.0)]             // 1.75 * 2^6
    [TestCase((byte)0x3C, E5M2, 1.0)]
    [TestCase((byte)0x7B, E5M2, 57344.0)]
    [TestCase((byte)0x01, E5M2, 1.52587890625e-05)] // 2^-16
    public void Decode_gives_the_codes_value(byte bits, DType dtype, double value) =>
        Assert.That(Fp8Reference.Decode(bits, dtype), Is.EqualTo(value));

    [Test]
    public void Special_codes_decode_to_nan_and_infinity()
    {
        Assert.That(Fp8Reference.Decode(0x7F, E4M3), Is.NaN);
        Assert.That(Fp8Reference.Decode(0xFF, E4M3), Is.NaN);
        Assert.That(Fp8Reference.Decode(0x7C, E5M2), Is.EqualTo(double.PositiveInfinity));
        Assert.That(Fp8Reference.Decode(0xFC, E5M2), Is.EqualTo(double.NegativeInfinity));
        Assert.That(Fp8Reference.Decode(0x7D, E5M2), Is.NaN);
    }

    [TestCase(E4M3)]
    [TestCase(E5M2)]
    public void Every_finite_code_round_trips(DType dtype)
    {
        for (int b = 0; b < 256; b++)
        {
            double v = Fp8Reference.Decode((byte)b, dtype);
            if (!double.IsFinite(v)) continue;
            Assert.That(Fp8Reference.Encode(v, dtype), Is.EqualTo((byte)b), $"code 0x{b:X2} = {v}");
        }
    }

    [Test]
    public void Encode_rounds_ties_to_even_and_saturates()
    {
        Assert.That(Fp8Reference.Encode(1.0625, E4M3), Is.EqualTo((byte)0x38));  // between 1 (m 0) and 1.125 (m 1): even
        Assert.That(Fp8Reference.Encode(1.1875, E4M3), Is.EqualTo((byte)0x3A));  // between 1.125 (m 1) and 1.25 (m 2): even
        Assert.That(Fp8Reference.Encode(1.07, E4M3), Is.EqualTo((byte)0x39));    // above the tie
        Assert.That(Fp8Reference.Encode(1000, E4M3), Is.EqualTo((byte)0x7E));
        Assert.That(Fp8Reference.Encode(-1e9, E4M3), Is.EqualTo((byte)0xFE));
        Assert.That(Fp8Reference.Encode(double.PositiveInfinity, E5M2), Is.EqualTo((byte)0x7B));
        Assert.That(Fp8Reference.Encode(0.0009765625, E4M3), Is.EqualTo((byte)0x00));  // 2^-10: tie between 0 and 2^-9, even
        Assert.That(Fp8Reference.Encode(double.NaN, E4M3), Is.EqualTo((byte)0x7F));
    }

    [Test]
    public void Row_wise_quantize_matches_hand_computed_codes()
    {
        // amax 4: scale = 4 / 448 (float32); q = x / scale = 112 x -> 112, -224, 448, 0.
        float[] x = [1f, -2f, 4f, 0f, 0f, 0f, 0f, 0f];
        byte[] q = new byte[8];
        float[] scales = new float[2];
        Fp8Reference.QuantizeRows(x, 2, 4, 0, E4M3, q, scales);
        Assert.That(scales, Is.EqualTo(new[] { 4f / 448f, 1f }));
        Assert.That(q, Is.EqualTo(new byte[] { 0x6E, 0xF6, 0x7E, 0x00, 0, 0, 0, 0 }));
        double[] back = Fp8Reference.DequantizeRows(q, scales, 2, 4, 0, E4M3);
        Assert.That(back[0], Is.EqualTo(1.0).Within(1e-6));
        Assert.That(back[2], Is.EqualTo(4.0).Within(1e-6));
    }

    [Test]
    public void One_by_block_quantize_scales_each_block_alone()
    {
        float[] x = [448f, 1f, 2f, 0.5f, 3f];  // blocks of 2: {448, 1}, {2, 0.5}, {3}
        byte[] q = new byte[5];
        float[] scales = new float[3];
        Fp8Reference.QuantizeRows(x, 1, 5, 2, E4M3, q, scales);
        Assert.That(scales, Is.EqualTo(new[] { 1f, 2f / 448f, 3f / 448f }));
        Assert.That(q[0], Is.EqualTo((byte)0x7E));
        Assert.That(q[4], Is.EqualTo((byte)0x7E));
    }

    [TestCase(1f, 1f)]
    [TestCase(0.75f, 1f)]
    [TestCase(1.5f, 2f)]
    [TestCase(4f / 448f, 1f / 64f)]          // 0.00893 -> 2^-6
    [TestCase(1.0000001f, 2f)]              // one float ulp above a power of two
    [TestCase(0.99999994f, 1f)]             // one ulp below
    [TestCase(1.4e-45f, 1.4e-45f)]          // the smallest subnormal, a power of two
    [TestCase(4.2e-45f, 5.6e-45f)]          // 3 ulps of subnormal -> 2^-147 (4 ulps)
    [TestCase(float.MaxValue, float.PositiveInfinity)]  // above 2^127: 2^128 is not a float
    public void Power_of_two_at_least_rounds_up_exactly(float value, float expected) =>
        Assert.That(Fp8Reference.PowerOfTwoAtLeast(value), Is.EqualTo(expected));

    [Test]
    public void Power_of_two_at_least_keeps_non_finite_and_refuses_zero()
    {
        Assert.That(Fp8Reference.PowerOfTwoAtLeast(float.NaN), Is.NaN);
        Assert.That(Fp8Reference.PowerOfTwoAtLeast(float.PositiveInfinity), Is.EqualTo(float.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fp8Reference.PowerOfTwoAtLeast(0f));
    }

    [Test]
    public void Power_of_two_scales_are_the_plain_scales_rounded_up_and_still_reproduce_x()
    {
        // amax 4: plain scale 4 / 448 = 0.00893; power of two 2^-6 = 0.015625, so q = 64 x (4 -> 256, below 448).
        float[] x = [1f, -2f, 4f, 0f, 0f, 0f, 0f, 0f];
        byte[] q = new byte[8];
        float[] scales = new float[2];
        Fp8Reference.QuantizeRows(x, 2, 4, 0, E4M3, q, scales, powerOfTwoScales: true);
        Assert.That(scales, Is.EqualTo(new[] { 1f / 64f, 1f }), "an all-zero row keeps scale 1");
        Assert.That(Fp8Reference.DequantizeRows(q, scales, 2, 4, 0, E4M3), Is.EqualTo(new double[] { 1, -2, 4, 0, 0, 0, 0, 0 }));

        // Random blocks: each power-of-two scale in [plain, 2 plain), and the codes reproduce w to E4M3 precision.
        var random = new Random(7);
        float[] w = Enumerable.Range(0, 2 * 200 * 136).Select(_ => (float)((random.NextDouble() - 0.5) * 30)).ToArray();
        byte[] plainQ = new byte[w.Length], pow2Q = new byte[w.Length];
        float[] plain = new float[2 * 2 * 2], pow2 = new float[plain.Length];
        Fp8Reference.QuantizeBlocks(w, 2, 200, 136, 128, E4M3, plainQ, plain);
        Fp8Reference.QuantizeBlocks(w, 2, 200, 136, 128, E4M3, pow2Q, pow2, powerOfTwoScales: true);
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.That(Math.ILogB((double)pow2[i]), Is.EqualTo(Math.Log2(pow2[i])), $"scale {i} is a power of two");
            Assert.That(pow2[i], Is.GreaterThanOrEqualTo(plain[i]).And.LessThan(2 * plain[i]), $"scale {i}");
        }

        double[] back = Fp8Reference.DequantizeBlocks(pow2Q, pow2, 2, 200, 136, 128, E4M3);
        for (int i = 0; i < w.Length; i++)
            Assert.That(back[i], Is.EqualTo(w[i]).Within(Math.Abs(w[i]) / 16 + 4 * 0.015625 * 15 / 448), $"w[{i}]");
    }

    [Test]
    public void Block_quantize_uses_one_scale_per_square()
    {
        // One 3x3 matrix, blocks of 2: scales [2, 2]; the corner block holds only w[2, 2].
        float[] w = [1f, 2f, 0f, 0.5f, 4f, 0f, 0f, 0f, 8f];
        byte[] q = new byte[9];
        float[] scales = new float[4];
        Fp8Reference.QuantizeBlocks(w, 1, 3, 3, 2, E4M3, q, scales);
        Assert.That(scales, Is.EqualTo(new[] { 4f / 448f, 1f, 1f, 8f / 448f }));
        double[] back = Fp8Reference.DequantizeBlocks(q, scales, 1, 3, 3, 2, E4M3);
        Assert.That(back, Is.EqualTo(new double[] { 1, 2, 0, 0.5, 4, 0, 0, 0, 8 }).Within(1e-6));
    }

    [Test]
    public void Row_wise_scaled_gmm_matches_a_hand_computed_product()
    {
        // Two experts, one row each, K = 2, N = 2. Codes: 0x38 = 1, 0x40 = 2, 0x44 = 3, 0xB8 = -1.
        byte[] x = [0x38, 0x40, 0x44, 0xB8];          // rows [1, 2] and [3, -1]
        float[] xScale = [0.5f, 2f];
        byte[] w = [0x38, 0x40, 0x44, 0x38,            // expert 0 [K, N] = [[1, 2], [3, 1]]
                    0x40, 0x38, 0x38, 0xB8];           // expert 1 = [[2, 1], [1, -1]]
        float[] wScale = [1f, 0.25f, 4f, 1f];          // [E, N]
        double[] c = Fp8Reference.ScaledGmm(x, xScale, w, wScale, [1, 1], 2, 2, false, ScaleMode.Rowwise);
        // Row 0: 0.5 * [1*1 + 2*3, 1*2 + 2*1] * [1, 0.25] = [3.5, 0.5]; row 1: 2 * [3*2 - 1, 3 + 1] * [4, 1] = [40, 8].
        Assert.That(c, Is.EqualTo(new double[] { 3.5, 0.5, 40, 8 }));
        // The same weights stored [E, N, K].
        byte[] wt = [0x38, 0x44, 0x40, 0x38, 0x40, 0x38, 0x38, 0xB8];
        Assert.That(Fp8Reference.ScaledGmm(x, xScale, wt, wScale, [1, 1], 2, 2, true, ScaleMode.Rowwise), Is.EqualTo(c));
    }

    [Test]
    public void Block_scaled_gmm_applies_each_k_blocks_scale()
    {
        // One expert, one row, K = 130 (two k blocks), N = 1: x = 1 everywhere, w = 1 everywhere.
        const int K = 130;
        byte[] x = Enumerable.Repeat((byte)0x38, K).ToArray();
        byte[] w = Enumerable.Repeat((byte)0x38, K).ToArray();
        float[] xScale = [2f, 3f];      // [M, ceil(K/128)]
        float[] wScale = [5f, 7f];      // [E, ceil(N/128), ceil(K/128)]
        double[] c = Fp8Reference.ScaledGmm(x, xScale, w, wScale, [1], K, 1, false, ScaleMode.Blockwise);
        Assert.That(c[0], Is.EqualTo((128 * 2 * 5) + (2 * 3 * 7)));
    }

    [Test]
    public void Wrong_scale_lengths_are_named()
    {
        byte[] x = new byte[4], w = new byte[8];
        var e = Assert.Throws<ArgumentException>(() => Fp8Reference.ScaledGmm(x, new float[1], w, new float[4], [1, 1], 2, 2, false, ScaleMode.Rowwise));
        Assert.That(e!.ParamName, Is.EqualTo("xScale"));
        Assert.That(e.Message, Does.Contain("[M] needs 2"));
        e = Assert.Throws<ArgumentException>(() => Fp8Reference.ScaledGmm(x, new float[2], w, new float[2], [1, 1], 2, 2, false, ScaleMode.Rowwise));
        Assert.That(e!.ParamName, Is.EqualTo("wScale"));
        Assert.That(e.Message, Does.Contain("[E, N] needs 4"));
    }
}
