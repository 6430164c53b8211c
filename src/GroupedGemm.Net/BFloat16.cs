using System.Globalization;
using System.Runtime.InteropServices;

namespace GroupedGemm;

/// <summary>
/// A 16-bit brain float: sign, 8 exponent bits and 7 mantissa bits, i.e. the upper half of a binary32.
/// Conversion from <see cref="float"/> rounds to nearest, ties to even; NaN stays NaN (made quiet, sign kept)
/// and infinities stay infinities. Conversion to <see cref="float"/> is exact.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IFormattable
{
    private const ushort QuietBit = 0x0040;

    /// <summary>Creates a value from its raw bit pattern.</summary>
    /// <param name="bits">The 16 bits: sign in bit 15, exponent in bits 14..7, mantissa in bits 6..0.</param>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw bit pattern.</summary>
    public ushort Bits { get; }

    /// <summary>Positive zero.</summary>
    public static BFloat16 Zero => new(0x0000);

    /// <summary>One.</summary>
    public static BFloat16 One => new(0x3F80);

    /// <summary>A quiet NaN.</summary>
    public static BFloat16 NaN => new(0x7FC0);

    /// <summary>Positive infinity.</summary>
    public static BFloat16 PositiveInfinity => new(0x7F80);

    /// <summary>Negative infinity.</summary>
    public static BFloat16 NegativeInfinity => new(0xFF80);

    /// <summary>The largest finite value, about 3.39e38.</summary>
    public static BFloat16 MaxValue => new(0x7F7F);

    /// <summary>The most negative finite value, about -3.39e38.</summary>
    public static BFloat16 MinValue => new(0xFF7F);

    /// <summary>The smallest positive (subnormal) value, 2^-133.</summary>
    public static BFloat16 Epsilon => new(0x0001);

    /// <summary>Whether <paramref name="value"/> is NaN.</summary>
    /// <param name="value">The value to test.</param>
    /// <returns><see langword="true"/> for any NaN bit pattern.</returns>
    public static bool IsNaN(BFloat16 value) => (value.Bits & 0x7FFF) > 0x7F80;

    /// <summary>Whether <paramref name="value"/> is positive or negative infinity.</summary>
    /// <param name="value">The value to test.</param>
    /// <returns><see langword="true"/> for ±infinity.</returns>
    public static bool IsInfinity(BFloat16 value) => (value.Bits & 0x7FFF) == 0x7F80;

    /// <summary>Whether <paramref name="value"/> is neither NaN nor infinite.</summary>
    /// <param name="value">The value to test.</param>
    /// <returns><see langword="true"/> for finite values, zeros and subnormals included.</returns>
    public static bool IsFinite(BFloat16 value) => (value.Bits & 0x7FFF) < 0x7F80;

    /// <summary>Rounds a <see cref="float"/> to the nearest <see cref="BFloat16"/>, ties to even.</summary>
    /// <param name="value">The value to convert.</param>
    /// <returns>The rounded value; NaN gives a quiet NaN of the same sign, ±infinity stays ±infinity.</returns>
    public static BFloat16 FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
        {
            // NaN: keep the sign and the top mantissa bits, and force the quiet bit so that a NaN whose
            // payload lives only in the low 16 bits does not truncate to an infinity.
            return new BFloat16((ushort)((bits >> 16) | QuietBit));
        }

        // Round to nearest even: add 0x7FFF plus the lowest kept bit, then truncate. Finite values that
        // round past the largest finite value become infinity, as IEEE rounding requires.
        uint lsb = (bits >> 16) & 1;
        return new BFloat16((ushort)((bits + 0x7FFFu + lsb) >> 16));
    }

    /// <summary>Widens to <see cref="float"/> exactly.</summary>
    /// <returns>The same value as a binary32.</returns>
    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    /// <summary>Rounds a <see cref="float"/> to the nearest <see cref="BFloat16"/>, ties to even.</summary>
    /// <param name="value">The value to convert.</param>
    public static explicit operator BFloat16(float value) => FromSingle(value);

    /// <summary>Widens to <see cref="float"/> exactly.</summary>
    /// <param name="value">The value to convert.</param>
    public static implicit operator float(BFloat16 value) => value.ToSingle();

    /// <summary>Widens to <see cref="double"/> exactly.</summary>
    /// <param name="value">The value to convert.</param>
    public static implicit operator double(BFloat16 value) => value.ToSingle();

    /// <summary>IEEE equality: NaN equals nothing, +0 equals -0.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.ToSingle() == right.ToSingle();

    /// <summary>IEEE inequality: true when either is NaN.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator !=(BFloat16 left, BFloat16 right) => left.ToSingle() != right.ToSingle();

    /// <summary>IEEE less-than.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator <(BFloat16 left, BFloat16 right) => left.ToSingle() < right.ToSingle();

    /// <summary>IEEE greater-than.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator >(BFloat16 left, BFloat16 right) => left.ToSingle() > right.ToSingle();

    /// <summary>IEEE less-than-or-equal.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator <=(BFloat16 left, BFloat16 right) => left.ToSingle() <= right.ToSingle();

    /// <summary>IEEE greater-than-or-equal.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator >=(BFloat16 left, BFloat16 right) => left.ToSingle() >= right.ToSingle();

    /// <summary>Equality as <see cref="float.Equals(float)"/> defines it: NaN equals NaN, +0 equals -0.</summary>
    /// <param name="other">The value to compare with.</param>
    /// <returns>Whether the two values are equal.</returns>
    public bool Equals(BFloat16 other) => ToSingle().Equals(other.ToSingle());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ToSingle().GetHashCode();

    /// <summary>Orders as <see cref="float.CompareTo(float)"/> does (NaN first).</summary>
    /// <param name="other">The value to compare with.</param>
    /// <returns>Negative, zero or positive.</returns>
    public int CompareTo(BFloat16 other) => ToSingle().CompareTo(other.ToSingle());

    /// <summary>The value as <see cref="float"/> formats it, in the invariant culture.</summary>
    /// <returns>The shortest text that round-trips the widened value.</returns>
    public override string ToString() => ToSingle().ToString(CultureInfo.InvariantCulture);

    /// <summary>The value as <see cref="float"/> formats it.</summary>
    /// <param name="format">A numeric format string, or null.</param>
    /// <param name="formatProvider">Culture information, or null for the current culture.</param>
    /// <returns>The formatted value.</returns>
    public string ToString(string? format, IFormatProvider? formatProvider) =>
        ToSingle().ToString(format, formatProvider);
}
