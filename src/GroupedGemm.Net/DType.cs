namespace GroupedGemm;

/// <summary>Element type of a <see cref="DeviceTensor"/>; the values are those of the native <c>gg_dtype</c>.</summary>
public enum DType
{
    /// <summary>IEEE 754 binary32 (<see cref="float"/>).</summary>
    Float32 = 0,

    /// <summary>IEEE 754 binary16 (<see cref="Half"/>).</summary>
    Float16 = 1,

    /// <summary>Brain float: the upper 16 bits of a binary32 (<see cref="GroupedGemm.BFloat16"/>).</summary>
    BFloat16 = 2,

    /// <summary>32-bit signed integer (<see cref="int"/>).</summary>
    Int32 = 3,

    /// <summary>64-bit signed integer (<see cref="long"/>), the type of batch sizes.</summary>
    Int64 = 4,

    /// <summary>OCP FP8 E4M3 (finite, largest 448): the operands of the scaled grouped GEMM; host copies use <see cref="byte"/> (raw bits).</summary>
    Float8E4M3 = 5,

    /// <summary>OCP FP8 E5M2 (largest finite 57344, with infinities): gradients; host copies use <see cref="byte"/> (raw bits).</summary>
    Float8E5M2 = 6,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>Size of one element in bytes.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float16 => 2,
        DType.BFloat16 => 2,
        DType.Int32 => 4,
        DType.Int64 => 8,
        DType.Float8E4M3 => 1,
        DType.Float8E5M2 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown element type."),
    };

    /// <summary>Whether the type is one of the floating-point types the GEMMs compute on.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns><see langword="true"/> for <see cref="DType.Float32"/>, <see cref="DType.Float16"/> and <see cref="DType.BFloat16"/>.</returns>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float32 or DType.Float16 or DType.BFloat16;

    /// <summary>Whether the type is one of the 8-bit floating-point types of the scaled grouped GEMM.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns><see langword="true"/> for <see cref="DType.Float8E4M3"/> and <see cref="DType.Float8E5M2"/>.</returns>
    public static bool IsFloat8(this DType dtype) => dtype is DType.Float8E4M3 or DType.Float8E5M2;

    /// <summary>The element type that stores values of the host type <typeparamref name="T"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="GroupedGemm.BFloat16"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <returns>The matching <see cref="DType"/>.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no device element type.</exception>
    public static DType Of<T>()
        where T : unmanaged
    {
        return OfType(typeof(T)) ?? throw new NotSupportedException(
            $"{typeof(T).Name} has no device element type; use float, Half, BFloat16, int or long.");
    }

    /// <summary>The element type whose host type is <paramref name="type"/>, or null for any other type.</summary>
    /// <param name="type">A host type.</param>
    /// <returns>The element type, or null.</returns>
    internal static DType? OfType(Type type) =>
        type == typeof(float) ? DType.Float32
        : type == typeof(Half) ? DType.Float16
        : type == typeof(BFloat16) ? DType.BFloat16
        : type == typeof(int) ? DType.Int32
        : type == typeof(long) ? DType.Int64
        : null;
}
