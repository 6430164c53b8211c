using System.Globalization;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>BFloat16 conversions against an independent reference: pick the nearer of the two neighbours in float64.</summary>
[TestFixture]
public class BFloat16Tests
{
    /// <summary>
    /// Reference rounding by comparing distances exactly in float64 (every float and every bf16 is exact there):
    /// the truncated value and the next bf16 away from zero are the candidates; ties go to the even mantissa.
    /// </summary>
    private static ushort ReferenceBits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        if (float.IsInfinity(value)) return (ushort)(bits >> 16);

        ushort low = (ushort)(bits >> 16);
        ushort high = (ushort)(low + 1); // next magnitude; 0x7F7F + 1 is infinity
        double exact = Math.Abs((double)value);
        double lowValue = Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)low << 16));
        double highValue = (high & 0x7FFF) == 0x7F80
            ? Math.Pow(2, 128) // where rounding to infinity starts: the value 2^128 in an unbounded exponent
            : Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)high << 16));
        double toLow = exact - lowValue, toHigh = highValue - exact;
        if (toLow < toHigh) return low;
        if (toHigh < toLow) return high;
        return (low & 1) == 0 ? low : high;
    }

    private static void CheckBits(uint floatBits)
    {
        float f = BitConverter.UInt32BitsToSingle(floatBits);
        ushort actual = ((BFloat16)f).Bits;
        ushort expected = ReferenceBits(f);
        if (actual != expected)
            Assert.Fail($"float bits 0x{floatBits:X8} ({f:R}): got 0x{actual:X4}, expected 0x{expected:X4}");
    }

    [Test]
    public void Every_high_half_with_boundary_low_halves_rounds_like_the_reference()
    {
        // For each of the 65536 bf16 neighbourhoods: exact, just below/at/just above the halfway point, and the top.
        uint[] lows = [0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF];
        for (uint high = 0; high <= 0xFFFF; high++)
        {
            foreach (uint low in lows) CheckBits((high << 16) | low);
        }
    }

    [Test]
    public void Random_values_round_like_the_reference()
    {
        Random random = TestRandom.Create();
        for (int i = 0; i < 1_000_000; i++) CheckBits((uint)random.NextInt64(0, 1L << 32));
    }

    [Test]
    public void Ties_go_to_even()
    {
        // 1 + 2^-8 is halfway between 1 (even) and 1 + 2^-7 (odd): down. 1 + 3·2^-8 is halfway between
        // 1 + 2^-7 (odd) and 1 + 2^-6 (even): up.
        Assert.That(((BFloat16)(1f + MathF.Pow(2, -8))).Bits, Is.EqualTo(0x3F80));
        Assert.That(((BFloat16)(1f + (3 * MathF.Pow(2, -8)))).Bits, Is.EqualTo(0x3F82));
        Assert.That(((BFloat16)(-(1f + MathF.Pow(2, -8)))).Bits, Is.EqualTo(0xBF80));
        Assert.That(((BFloat16)(1f + MathF.Pow(2, -8) + MathF.Pow(2, -20))).Bits, Is.EqualTo(0x3F81), "just above a tie rounds up");
    }

    [Test]
    public void NaN_stays_quiet_NaN_with_its_sign_and_infinities_are_kept()
    {
        // A signalling NaN whose payload is only in the low bits must not truncate to infinity.
        BFloat16 snan = (BFloat16)BitConverter.UInt32BitsToSingle(0x7F800001);
        Assert.That(BFloat16.IsNaN(snan), Is.True);
        Assert.That(snan.Bits & 0x0040, Is.EqualTo(0x0040), "quiet bit");
        BFloat16 negativeNaN = (BFloat16)BitConverter.UInt32BitsToSingle(0xFFC00000);
        Assert.That(BFloat16.IsNaN(negativeNaN) && (negativeNaN.Bits & 0x8000) != 0, Is.True);
        Assert.That(float.IsNaN((float)BFloat16.NaN), Is.True);

        Assert.That(((BFloat16)float.PositiveInfinity).Bits, Is.EqualTo(0x7F80));
        Assert.That(((BFloat16)float.NegativeInfinity).Bits, Is.EqualTo(0xFF80));
        Assert.That((float)BFloat16.PositiveInfinity, Is.EqualTo(float.PositiveInfinity));
        Assert.That(BFloat16.IsInfinity((BFloat16)float.MaxValue), Is.True, "float.MaxValue rounds past the largest bf16");
        Assert.That(((BFloat16)3.3895314e38f).Bits, Is.EqualTo(BFloat16.MaxValue.Bits));
    }

    [Test]
    public void Subnormals_round_and_widen_exactly()
    {
        Assert.That((float)BFloat16.Epsilon, Is.EqualTo(MathF.Pow(2, -133)));
        Assert.That(((BFloat16)MathF.Pow(2, -133)).Bits, Is.EqualTo(0x0001));
        Assert.That(((BFloat16)MathF.Pow(2, -134)).Bits, Is.EqualTo(0x0000), "halfway to the smallest subnormal: tie to even zero");
        Assert.That(((BFloat16)(1.5f * MathF.Pow(2, -133))).Bits, Is.EqualTo(0x0002), "tie between 1 and 2 ulps goes to 2");
        Assert.That(((BFloat16)(-float.Epsilon)).Bits, Is.EqualTo(0x8000), "the smallest float subnormal rounds to -0");
    }

    [Test]
    public void Every_bit_pattern_round_trips_through_float()
    {
        for (int bits = 0; bits <= 0xFFFF; bits++)
        {
            var value = new BFloat16((ushort)bits);
            ushort back = ((BFloat16)(float)value).Bits;
            ushort expected = BFloat16.IsNaN(value) ? (ushort)(bits | 0x0040) : (ushort)bits;
            if (back != expected) Assert.Fail($"0x{bits:X4} came back as 0x{back:X4}");
        }
    }

    [Test]
    public void Equality_ordering_and_text_follow_float()
    {
        var plusZero = new BFloat16(0x0000);
        var minusZero = new BFloat16(0x8000);
        Assert.That(plusZero == minusZero, Is.True);
        Assert.That(plusZero.Equals(minusZero), Is.True);
        Assert.That(plusZero.GetHashCode(), Is.EqualTo(minusZero.GetHashCode()));
        Assert.That(BFloat16.NaN == BFloat16.NaN, Is.False);
        Assert.That(BFloat16.NaN.Equals(BFloat16.NaN), Is.True);
        Assert.That(BFloat16.One > BFloat16.Zero && BFloat16.Zero < BFloat16.One && BFloat16.One >= BFloat16.One, Is.True);
        Assert.That(BFloat16.MinValue.CompareTo(BFloat16.MaxValue), Is.Negative);
        Assert.That(BFloat16.One.ToString(), Is.EqualTo("1"));
        Assert.That(((BFloat16)1.5f).ToString("F2", CultureInfo.InvariantCulture), Is.EqualTo("1.50"));
        Assert.That(new BFloat16(0x4049).Bits, Is.EqualTo(0x4049));
        double widened = (BFloat16)3.140625f;
        Assert.That(widened, Is.EqualTo(3.140625));
        Assert.That(BFloat16.IsFinite(BFloat16.MaxValue) && !BFloat16.IsFinite(BFloat16.NegativeInfinity), Is.True);
    }
}
