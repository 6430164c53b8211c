using System.Runtime.CompilerServices;

namespace GroupedGemm;

/// <summary>
/// Whether a host type may carry a tensor's elements in a copy: the host type of the tensor's <see cref="DType"/>
/// (float, Half, BFloat16, int, long) always; another of those five never (a Half read of a BFloat16 tensor would
/// reinterpret bits silently); any other unmanaged type of the element's size as raw bits (ushort for bf16 or fp16
/// bits, uint for float bits), because such a type says by itself that no conversion happens.
/// </summary>
internal static class HostElementType
{
    /// <summary>Throws unless <typeparamref name="T"/> may carry elements of <paramref name="dtype"/>.</summary>
    /// <typeparam name="T">The host element type.</typeparam>
    /// <param name="dtype">The tensor's element type.</param>
    /// <param name="paramName">The argument to name in the exception.</param>
    /// <exception cref="ArgumentException">The type is another element type's, or its size differs.</exception>
    internal static void Check<T>(DType dtype, string paramName)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (size != dtype.ElementSize())
        {
            throw new ArgumentException(
                $"{typeof(T).Name} is {size} bytes but the tensor's elements ({dtype}) are {dtype.ElementSize()}; {Advice(dtype)}.",
                paramName);
        }

        if (DTypeExtensions.OfType(typeof(T)) is DType own && own != dtype)
        {
            throw new ArgumentException(
                $"{typeof(T).Name} holds {own} values but the tensor's elements are {dtype}; {Advice(dtype)}.", paramName);
        }
    }

    /// <summary>What to use instead, e.g. "use BFloat16 (or ushort for the raw bits)".</summary>
    /// <param name="dtype">The tensor's element type.</param>
    /// <returns>The advice.</returns>
    private static string Advice(DType dtype) => dtype switch
    {
        DType.Float32 => "use float (or uint for the raw bits)",
        DType.Float16 => "use Half (or ushort for the raw bits)",
        DType.BFloat16 => "use BFloat16 (or ushort for the raw bits)",
        DType.Int32 => "use int",
        DType.Int64 => "use long",
        DType.Float8E4M3 or DType.Float8E5M2 => "use byte (the raw bits)",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown element type."),
    };
}
