using System.Numerics;
using System.Globalization;

namespace GroupedGemm;

/// <summary>Shape arithmetic and formatting shared by tensors and validation.</summary>
internal static class TensorShape
{
    /// <summary>Checks every extent and returns the element count (64-bit, overflow-checked).</summary>
    /// <param name="shape">The extents.</param>
    /// <param name="paramName">Parameter name for errors.</param>
    /// <returns>The product of the extents (1 for rank 0).</returns>
    internal static long ElementCount(ReadOnlySpan<long> shape, string paramName)
    {
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentOutOfRangeException(paramName, shape[i],
                    $"Extent {i} of shape {Format(shape)} is negative.");
            }
        }

        // An empty extent anywhere makes the count 0, even where the extents before it multiply past int64.
        if (shape.Contains(0L)) return 0;
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            try
            {
                count = checked(count * shape[i]);
            }
            catch (OverflowException)
            {
                throw new ArgumentOutOfRangeException(paramName,
                    $"Shape {Format(shape)} has more than {long.MaxValue} elements.");
            }
        }

        return count;
    }

    /// <summary>
    /// The bytes of <paramref name="elements"/> elements of <paramref name="dtype"/>, refused beyond int64 (2^62 float32
    /// elements fit int64 as a count but not as bytes, which the native overlap and extent checks add up).
    /// </summary>
    /// <param name="elements">The element count (<see cref="ElementCount"/>).</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents, for the message.</param>
    /// <param name="paramName">Parameter name for errors.</param>
    /// <returns>The size in bytes.</returns>
    internal static long ByteCount(long elements, DType dtype, ReadOnlySpan<long> shape, string paramName)
    {
        int size = dtype.ElementSize();
        if (elements > long.MaxValue / size)
        {
            throw new ArgumentOutOfRangeException(paramName,
                $"Shape {Format(shape)} of {dtype} has {elements} elements, more than {long.MaxValue} bytes.");
        }

        return elements * size;
    }

    /// <summary>
    /// The exact product of non-negative sizes, however large (0 where any is 0): a count derived from extents that
    /// each fit int64 can pass it, and three of them pass even 128 bits.
    /// </summary>
    /// <param name="sizes">The sizes, none negative.</param>
    /// <returns>The product.</returns>
    internal static BigInteger Product(params ReadOnlySpan<long> sizes)
    {
        BigInteger product = BigInteger.One;
        foreach (long size in sizes) product *= size;
        return product;
    }

    /// <summary>ceil(<paramref name="extent"/> / <paramref name="block"/>) without forming extent + block - 1, which
    /// passes int64 for a block near <see cref="long.MaxValue"/>.</summary>
    /// <param name="extent">A non-negative extent.</param>
    /// <param name="block">A positive block.</param>
    /// <returns>The number of blocks.</returns>
    internal static long Blocks(long extent, long block) => (extent / block) + (extent % block == 0 ? 0 : 1);

    /// <summary>Formats a shape as <c>[2, 3, 4]</c>.</summary>
    /// <param name="shape">The extents.</param>
    /// <returns>The text.</returns>
    internal static string Format(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>Formats a shape as <c>[2, 3, 4]</c>.</summary>
    /// <param name="shape">The extents.</param>
    /// <returns>The text.</returns>
    internal static string Format(IReadOnlyList<long> shape) => Format(shape.ToArray().AsSpan());
}
