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
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentOutOfRangeException(paramName, shape[i],
                    $"Extent {i} of shape {Format(shape)} is negative.");
            }

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
