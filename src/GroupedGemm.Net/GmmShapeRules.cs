using System.Globalization;

namespace GroupedGemm;

/// <summary>
/// The shape rules of a grouped GEMM (tgale96's <c>ops.gmm</c>) on extents alone, for a framework that checks its own
/// tensor type before it hands the memory to this package (the TorchSharp adapter does): the same rules, in the same
/// order and with the same messages, as every grouped GEMM call of this package, which checks them through this class.
/// </summary>
/// <remarks>
/// Forms: forward a [M, K] · b [E, K, N] → [M, N]; <c>transB</c>: b is [E, N, K]; <c>transA</c> (weight gradient):
/// a [M, K] and b [M, N] → [E, K, N]. M is the sum of the batch sizes, E their number.
/// </remarks>
public static class GmmShapeRules
{
    /// <summary>Checks the operands' shapes against each other and the number of batch sizes; returns the sizes.</summary>
    /// <param name="aShape">The shape of a.</param>
    /// <param name="bShape">The shape of b.</param>
    /// <param name="experts">The number of batch sizes (E).</param>
    /// <param name="transA">The weight-gradient form.</param>
    /// <param name="transB">b stored transposed ([E, N, K]).</param>
    /// <returns>M, K, N and E of the call.</returns>
    /// <exception cref="ArgumentNullException">A shape is null.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit, <paramref name="experts"/> is below 1, an extent is
    /// negative, or a shape or the output ([M, N], or the weight gradient's [E, K, N]) would exceed
    /// <see cref="long.MaxValue"/> elements; the message names the argument (a, b, batchSizes or transB) and the
    /// sizes.</exception>
    public static GmmShape Check(IReadOnlyList<long> aShape, IReadOnlyList<long> bShape, long experts, bool transA = false,
        bool transB = false) => Check(aShape, bShape, experts, transA, transB, GmmNames.Context);

    /// <summary>Checks host batch sizes: each non-negative, and their sum equal to a's <paramref name="m"/> rows.</summary>
    /// <param name="batchSizes">The batch sizes.</param>
    /// <param name="m">Rows of a.</param>
    /// <exception cref="ArgumentOutOfRangeException">A batch size is negative.</exception>
    /// <exception cref="ArgumentException">The batch sizes do not sum to <paramref name="m"/>.</exception>
    public static void CheckBatchSizes(ReadOnlySpan<long> batchSizes, long m) => CheckBatchSizes(batchSizes, m, GmmNames.Context);

    /// <summary><see cref="Check(IReadOnlyList{long}, IReadOnlyList{long}, long, bool, bool)"/> with the caller's argument names.</summary>
    internal static GmmShape Check(IReadOnlyList<long> aShape, IReadOnlyList<long> bShape, long experts, bool transA,
        bool transB, GmmNames names)
    {
        ArgumentNullException.ThrowIfNull(aShape, names.A);
        ArgumentNullException.ThrowIfNull(bShape, names.B);
        CheckForm(transA, transB);

        CheckRank(aShape, 2, "[M, K]", names.A);
        CheckExtents(aShape, names.A);
        CheckExtents(bShape, names.B);
        if (experts < 1)
        {
            // experts is a span's length on every call of this package, but any long through Check: say which.
            string count = experts == 0 ? "is empty (E = 0)" : $"has E = {experts} entries";
            throw new ArgumentException(
                $"{names.Counts} {count}; a grouped GEMM needs at least one expert.", names.Counts);
        }

        long m = aShape[0];
        long k = aShape[1];
        if (transA)
        {
            CheckRank(bShape, 2, "[M, N] (transA: one row per row of " + names.A + ")", names.B);
            if (bShape[0] != m)
            {
                throw new ArgumentException(
                    $"{names.A} has {m} rows but {names.B} has {bShape[0]} rows; with transA both hold the same M rows.",
                    names.B);
            }

            // The weight gradient's output [E, K, N] is a product of sizes no operand holds.
            if (TensorShape.Product(experts, k, bShape[1]) > long.MaxValue)
            {
                throw new ArgumentException(
                    $"the weight gradient [E, K, N] = [{experts}, {k}, {bShape[1]}] would have more than {long.MaxValue} " +
                    "elements.", names.Counts);
            }

            return new GmmShape(m, k, bShape[1], experts);
        }

        CheckRank(bShape, 3, transB ? "[E, N, K] (transB)" : "[E, K, N]", names.B);
        if (bShape[0] != experts)
        {
            throw new ArgumentException(
                $"{names.B} has {bShape[0]} experts ({names.B}.Shape[0]) but {names.Counts} has {experts} entries.",
                names.Counts);
        }

        long bk = transB ? bShape[2] : bShape[1];
        long n = transB ? bShape[1] : bShape[2];
        if (bk != k)
        {
            string layout = transB ? "[E, N, K] = " : "[E, K, N] = ";
            throw new ArgumentException(
                $"{names.A} has K = {k} columns but {names.B} {layout}{TensorShape.Format(bShape)} has K = {bk}.",
                names.B);
        }

        // Nor does any operand hold the forward output [M, N] when K = 0 (a [M, 0] and b [E, 0, N] are empty).
        if (TensorShape.Product(m, n) > long.MaxValue)
        {
            throw new ArgumentException(
                $"the output [M, N] = [{m}, {n}] would have more than {long.MaxValue} elements.", names.B);
        }

        return new GmmShape(m, k, n, experts);
    }

    /// <summary>Checks that the flags name one of the three forms (transA and transB exclude each other).</summary>
    internal static void CheckForm(bool transA, bool transB)
    {
        if (transA && transB)
        {
            throw new ArgumentException(
                "transA and transB cannot both be set: the weight-gradient form (transA) takes b as [M, N] rows.",
                nameof(transB));
        }
    }

    /// <summary><see cref="CheckBatchSizes(ReadOnlySpan{long}, long)"/> with the caller's argument names.</summary>
    internal static void CheckBatchSizes(ReadOnlySpan<long> counts, long m, GmmNames names)
    {
        Int128 sum = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            if (counts[e] < 0)
            {
                throw new ArgumentOutOfRangeException(names.Counts, counts[e],
                    $"{names.Counts}[{e}] is {counts[e]}; batch sizes must be non-negative.");
            }

            sum += counts[e];
        }

        if (sum != m)
        {
            throw new ArgumentException(
                $"{names.Counts} sums to {sum.ToString(CultureInfo.InvariantCulture)} but {names.A} has {m} rows.",
                names.Counts);
        }
    }

    /// <summary>
    /// Checks that no extent is negative and that the shape holds at most <see cref="long.MaxValue"/> elements (a shape
    /// from a framework's own tensor type always does, one from a caller's list may not).
    /// </summary>
    internal static void CheckExtents(IReadOnlyList<long> shape, string name)
    {
        for (int i = 0; i < shape.Count; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentException(
                    $"{name} has shape {TensorShape.Format(shape)}: extent {i} is negative.", name);
            }
        }

        if (TensorShape.Product([.. shape]) > long.MaxValue)
        {
            throw new ArgumentException(
                $"{name} has shape {TensorShape.Format(shape)}: more than {long.MaxValue} elements.", name);
        }
    }

    /// <summary>Checks a shape's rank; the message names the argument, the layout wanted and the shape given.</summary>
    internal static void CheckRank(IReadOnlyList<long> shape, int rank, string layout, string name)
    {
        if (shape.Count != rank)
            throw new ArgumentException($"{name} must be {rank}-D {layout} but has shape {TensorShape.Format(shape)}.", name);
    }
}

/// <summary>The sizes of one grouped GEMM, as <see cref="GmmShapeRules.Check(IReadOnlyList{long}, IReadOnlyList{long}, long, bool, bool)"/> found them.</summary>
/// <param name="M">Rows of a (the sum of the batch sizes).</param>
/// <param name="K">Columns of a.</param>
/// <param name="N">Columns of the forward output, or of b with transA.</param>
/// <param name="Experts">E, the number of batch sizes.</param>
public readonly record struct GmmShape(long M, long K, long N, long Experts)
{
    /// <summary>The output's shape: [M, N], or [E, K, N] for the weight-gradient form.</summary>
    /// <param name="transA">Whether the call is the weight-gradient form.</param>
    /// <returns>The extents.</returns>
    public long[] OutputShape(bool transA) => transA ? [Experts, K, N] : [M, N];
}
