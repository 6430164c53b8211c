namespace GroupedGemm.Interop.Ilgpu;

/// <summary>
/// The inputs' values: element i of a tensor filled with seed s is level <c>Hash(s, i) mod 129</c> of the table
/// m/64, m = -64..64. Every level is exact in bf16 (8 significant bits) and fp16 (11), so the device holds exactly
/// the values the host recomputes, and the float64 reference needs no read-back of the inputs.
/// </summary>
internal static class HashedValues
{
    /// <summary>Number of levels: m/64 for m = -64..64.</summary>
    public const int Levels = 129;

    /// <summary>A 32-bit integer hash (a murmur-style finaliser); compiled by ILGPU for the fill kernel too.</summary>
    /// <param name="seed">The tensor's seed.</param>
    /// <param name="index">The element's flat index.</param>
    /// <returns>The hash.</returns>
    public static uint Hash(uint seed, uint index)
    {
        uint h = unchecked((index * 0x9E3779B1u) + (seed * 0x85EBCA77u) + 0x165667B1u);
        h ^= h >> 16;
        h = unchecked(h * 0x7FEB352Du);
        h ^= h >> 15;
        h = unchecked(h * 0x846CA68Bu);
        h ^= h >> 16;
        return h;
    }

    /// <summary>The value of a level.</summary>
    /// <param name="level">0..<see cref="Levels"/>-1.</param>
    /// <returns>(level - 64) / 64.</returns>
    public static double Value(int level) => (level - 64) / 64.0;

    /// <summary>The storage bits of every level in <paramref name="dtype"/>: the table the fill kernel indexes.</summary>
    /// <param name="dtype">BFloat16 or Float16.</param>
    /// <returns><see cref="Levels"/> bit patterns.</returns>
    public static ushort[] BitTable(DType dtype)
    {
        var table = new ushort[Levels];
        for (int level = 0; level < Levels; level++)
        {
            float v = (float)Value(level);
            table[level] = dtype switch
            {
                DType.BFloat16 => BFloat16.FromSingle(v).Bits,
                DType.Float16 => BitConverter.HalfToUInt16Bits((Half)v),
                _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "only bf16 and fp16 are filled here"),
            };
            if (Decode(table[level], dtype) != Value(level))
                throw new InvalidOperationException($"level {level} ({Value(level)}) is not exact in {dtype}");
        }

        return table;
    }

    /// <summary>What the fill kernel writes with <paramref name="seed"/>, as float64.</summary>
    /// <param name="seed">The tensor's seed.</param>
    /// <param name="count">The number of elements.</param>
    /// <returns>The values, flat.</returns>
    public static double[] Expected(uint seed, long count)
    {
        var values = new double[count];
        for (long i = 0; i < count; i++) values[i] = Value((int)(Hash(seed, (uint)i) % Levels));
        return values;
    }

    /// <summary>Widens stored bits of <paramref name="dtype"/> to float64 (0xFFFF, the poison, is NaN in both types).</summary>
    /// <param name="bits">The storage bits.</param>
    /// <param name="dtype">BFloat16 or Float16.</param>
    /// <returns>The value.</returns>
    public static double Decode(ushort bits, DType dtype) => dtype == DType.BFloat16
        ? new BFloat16(bits).ToSingle()
        : (double)BitConverter.UInt16BitsToHalf(bits);
}
