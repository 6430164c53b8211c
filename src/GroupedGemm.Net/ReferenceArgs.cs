using System.Globalization;
using System.Numerics;

namespace GroupedGemm;

/// <summary>
/// The size rules of the CPU references (<see cref="CpuReference"/>, <see cref="Fp8Reference"/>): products of sizes
/// are formed exactly (in 128 bits for int sizes, as a <see cref="BigInteger"/> where three int64 sizes can pass
/// 2^127), so that no size a caller passes can overflow into a bare <see cref="OverflowException"/> or wrap into a
/// length that matches; a result beyond what a .NET array holds is refused before it is allocated.
/// </summary>
internal static class ReferenceArgs
{
    /// <summary>Throws unless a span holds exactly the elements its layout needs.</summary>
    /// <param name="actual">The span's length.</param>
    /// <param name="expected">The elements the layout needs (any size, exact).</param>
    /// <param name="layout">The layout in words, e.g. "[M, K]".</param>
    /// <param name="sizes">The sizes of the layout, e.g. "M = 3, K = 5": the message says what the count came from.</param>
    /// <param name="name">The argument.</param>
    /// <param name="unit">What the message calls the elements (each reference keeps its own word).</param>
    internal static void Length(int actual, BigInteger expected, string layout, string sizes, string name,
        string unit = "elements")
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} {unit} but {layout} needs {Text(expected)} ({sizes}).", name);
    }

    /// <summary>The element count of a result, refused (naming <paramref name="name"/>) beyond <see cref="Array.MaxLength"/>.</summary>
    /// <param name="elements">The result's elements.</param>
    /// <param name="layout">The result's layout with its sizes, e.g. "[M, N] = [3, 5]".</param>
    /// <param name="name">The argument that makes it so large.</param>
    /// <returns>The count.</returns>
    internal static int Result(BigInteger elements, string layout, string name)
    {
        if (elements > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(name,
                $"the result {layout} would have {Text(elements)} elements; a CPU reference returns at most " +
                $"{Array.MaxLength} (Array.MaxLength).");
        }

        return (int)elements;
    }

    /// <summary>
    /// The row offsets of host batch sizes (E + 1 values, the last one M), each size non-negative and M within int64.
    /// </summary>
    /// <param name="counts">The batch sizes.</param>
    /// <param name="name">The argument.</param>
    /// <returns>The offsets.</returns>
    internal static long[] Offsets(ReadOnlySpan<long> counts, string name)
    {
        long[] offsets = new long[counts.Length + 1];
        for (int e = 0; e < counts.Length; e++)
        {
            if (counts[e] < 0)
                throw new ArgumentOutOfRangeException(name, counts[e], $"{name}[{e}] is negative.");
            if (counts[e] > long.MaxValue - offsets[e])
            {
                throw new ArgumentOutOfRangeException(name, counts[e],
                    $"{name}[{e}] = {counts[e]} takes the rows past {long.MaxValue} (after {offsets[e]} rows).");
            }

            offsets[e + 1] = offsets[e] + counts[e];
        }

        return offsets;
    }

    private static string Text(BigInteger value) => value.ToString(CultureInfo.InvariantCulture);
}
