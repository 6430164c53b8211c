namespace GroupedGemm;

/// <summary>Strides as frameworks report them (in elements, one per extent), checked against the row-major contiguous layout.</summary>
internal static class TensorStrides
{
    /// <summary>The strides of row-major, contiguous memory of <paramref name="shape"/>: 1 for the last extent, each other the product of those after it.</summary>
    /// <param name="shape">The extents (already checked: none negative, the product fits a long).</param>
    /// <returns>The strides, in elements.</returns>
    internal static long[] Contiguous(ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = step;
            // As PyTorch does: a zero extent counts as 1, so the strides stay those of the non-empty layout.
            step *= Math.Max(shape[i], 1);
        }

        return strides;
    }

    /// <summary>
    /// Throws unless <paramref name="strides"/> describe row-major, contiguous memory of <paramref name="shape"/>.
    /// As in PyTorch's <c>is_contiguous</c>, the stride of an extent of 1 is free, and a tensor without elements is
    /// contiguous whatever its strides.
    /// </summary>
    /// <param name="shape">The extents (already checked).</param>
    /// <param name="count">The element count of <paramref name="shape"/>.</param>
    /// <param name="strides">The strides to check, in elements.</param>
    /// <param name="paramName">The argument to name in the exception.</param>
    /// <exception cref="ArgumentException">There is not one stride per extent, or a stride differs from the contiguous one.</exception>
    internal static void RequireContiguous(ReadOnlySpan<long> shape, long count, ReadOnlySpan<long> strides, string paramName)
    {
        if (strides.Length != shape.Length)
        {
            throw new ArgumentException(
                $"Strides {TensorShape.Format(strides)} have {strides.Length} entries but shape {TensorShape.Format(shape)} " +
                $"has {shape.Length} extents; give one stride per extent.", paramName);
        }

        if (count == 0) return;
        long[] expected = Contiguous(shape);
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1 || strides[i] == expected[i]) continue;
            throw new ArgumentException(
                $"Strides {TensorShape.Format(strides)} of shape {TensorShape.Format(shape)} are not contiguous: dimension {i} " +
                $"has stride {strides[i]} where {expected[i]} is expected (row-major contiguous strides, in elements: " +
                $"{TensorShape.Format(expected)}). GroupedGemm reads row-major contiguous memory only; make the tensor " +
                "contiguous first (for example with contiguous() in PyTorch or TorchSharp).", paramName);
        }
    }
}
