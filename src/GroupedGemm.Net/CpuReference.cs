using System.Numerics;

namespace GroupedGemm;

/// <summary>
/// A float64 grouped GEMM on the CPU with tgale96/grouped_gemm semantics, and the helpers to compare a device
/// result with it. Meant for tests, the library's and its consumers'.
/// </summary>
public static unsafe class CpuReference
{
    /// <summary>Multiply-adds above which the reference spreads rows over threads.</summary>
    private const long ParallelThreshold = 1L << 22;

    /// <summary>
    /// Grouped GEMM in float64. With E = <c>batchSizes.Length</c> and M = the sum of the batch sizes:
    /// forward a [M, K] · b [E, K, N] → [M, N]; <paramref name="transB"/>: b is [E, N, K];
    /// <paramref name="transA"/>: a [M, K], b [M, N] → [E, K, N] with c[e] = a_eᵀ · b_e.
    /// </summary>
    /// <param name="a">Row-major [M, K].</param>
    /// <param name="b">Row-major [E, K, N], [E, N, K] or [M, N], as the form says.</param>
    /// <param name="batchSizes">Rows per expert, non-negative.</param>
    /// <param name="k">K, columns of a.</param>
    /// <param name="n">N, columns of the (forward) output or of b (transA).</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">b stored transposed (not with transA).</param>
    /// <returns>The product, row-major: [M, N], or [E, K, N] for transA.</returns>
    /// <exception cref="ArgumentOutOfRangeException">k or n is negative, a batch size is negative or they sum past
    /// <see cref="long.MaxValue"/>, or the product would hold more than <see cref="Array.MaxLength"/> elements.</exception>
    /// <exception cref="ArgumentException">a or b does not hold the elements its layout needs (the message gives the
    /// sizes), or transA and transB are both set.</exception>
    public static double[] Gmm(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<long> batchSizes,
        long k, long n, bool transA = false, bool transB = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (transA && transB) throw new ArgumentException("transA and transB cannot both be set.", nameof(transB));

        long experts = batchSizes.Length;
        long[] offsets = ReferenceArgs.Offsets(batchSizes, nameof(batchSizes));
        long m = offsets[experts];
        // E · K · N of three int64 sizes reaches 2^189: in 128 bits it would wrap, to a small result for example.
        BigInteger ekn = (BigInteger)experts * k * n;
        ReferenceArgs.Length(a.Length, (Int128)m * k, "[M, K]", $"M = {m}, K = {k}", nameof(a), "values");
        ReferenceArgs.Length(b.Length, transA ? (Int128)m * n : ekn, transA ? "[M, N]" : "[E, K, N]",
            transA ? $"M = {m}, N = {n}" : $"E = {experts}, K = {k}, N = {n}", nameof(b), "values");
        int size = transA
            ? ReferenceArgs.Result(ekn, $"[E, K, N] = [{experts}, {k}, {n}]", nameof(n))
            : ReferenceArgs.Result((Int128)m * n, $"[M, N] = [{m}, {n}]", nameof(n));

        double[] c = new double[size];
        // Nothing to add when a size is 0 (c stays zeros); the loops below would still walk every row or (expert, K)
        // pair, up to 2^63 of them for an empty product.
        if (m == 0 || k == 0 || n == 0) return c;
        fixed (double* pa = a, pb = b, pc = c)
        {
            var job = new Job((nint)pa, (nint)pb, (nint)pc, offsets, k, n, transB);
            bool parallel = (double)m * k * n > ParallelThreshold;
            if (transA)
            {
                // One task per (expert, row of K): each writes a disjoint row of c.
                long tasks = experts * k;
                if (parallel) Parallel.For(0, tasks, job.WeightGradientRow);
                else for (long t = 0; t < tasks; t++) job.WeightGradientRow(t);
            }
            else if (parallel)
            {
                Parallel.For(0, m, job.ForwardRow);
            }
            else
            {
                for (long r = 0; r < m; r++) job.ForwardRow(r);
            }
        }

        return c;
    }

    /// <summary>Relative error ‖actual − reference‖₂ / ‖reference‖₂ in float64; +∞ if anything is NaN or infinite.</summary>
    /// <param name="actual">The values to judge.</param>
    /// <param name="reference">The reference values, same length.</param>
    /// <returns>The relative error; 0 when both are all zeros, +∞ when only the reference is.</returns>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static double RelativeError(ReadOnlySpan<double> actual, ReadOnlySpan<double> reference)
    {
        if (actual.Length != reference.Length)
        {
            throw new ArgumentException(
                $"actual has {actual.Length} values but reference has {reference.Length}.", nameof(actual));
        }

        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - reference[i];
            diff += d * d;
            norm += reference[i] * reference[i];
        }

        if (double.IsNaN(diff) || double.IsInfinity(diff) || double.IsNaN(norm)) return double.PositiveInfinity;
        if (norm == 0) return diff == 0 ? 0 : double.PositiveInfinity;
        return Math.Sqrt(diff / norm);
    }

    /// <summary>Widens float values to float64.</summary>
    /// <param name="values">The values.</param>
    /// <returns>A new array.</returns>
    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>Widens half values to float64 (exactly).</summary>
    /// <param name="values">The values.</param>
    /// <returns>A new array.</returns>
    public static double[] ToDouble(ReadOnlySpan<Half> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (double)values[i];
        return result;
    }

    /// <summary>Widens bfloat16 values to float64 (exactly).</summary>
    /// <param name="values">The values.</param>
    /// <returns>A new array.</returns>
    public static double[] ToDouble(ReadOnlySpan<BFloat16> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>The pointers and sizes one row task needs (spans cannot cross into parallel lambdas).</summary>
    private sealed class Job(nint a, nint b, nint c, long[] offsets, long k, long n, bool transB)
    {
        private int ExpertOfRow(long row)
        {
            int e = Array.BinarySearch(offsets, row);
            if (e < 0) return ~e - 1;
            // Several offsets may equal `row` (empty experts): the row belongs to the last of them.
            while (e + 1 < offsets.Length - 1 && offsets[e + 1] == row) e++;
            return e;
        }

        public void ForwardRow(long row)
        {
            double* pa = (double*)a + (row * k);
            double* pc = (double*)c + (row * n);
            double* we = (double*)b + (ExpertOfRow(row) * k * n);
            if (transB)
            {
                for (long j = 0; j < n; j++)
                {
                    double* wj = we + (j * k);
                    double sum = 0;
                    for (long i = 0; i < k; i++) sum += pa[i] * wj[i];
                    pc[j] = sum;
                }

                return;
            }

            for (long i = 0; i < k; i++)
            {
                double ai = pa[i];
                double* wi = we + (i * n);
                for (long j = 0; j < n; j++) pc[j] += ai * wi[j];
            }
        }

        public void WeightGradientRow(long task)
        {
            long e = task / k, i = task % k;
            double* pc = (double*)c + (((e * k) + i) * n);
            for (long r = offsets[e]; r < offsets[e + 1]; r++)
            {
                double ari = ((double*)a)[(r * k) + i];
                double* br = (double*)b + (r * n);
                for (long j = 0; j < n; j++) pc[j] += ari * br[j];
            }
        }
    }
}
