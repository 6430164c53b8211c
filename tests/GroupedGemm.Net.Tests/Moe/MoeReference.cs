using GroupedGemm.MoE;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Float64 CPU references of the MoE kernels, written as plainly as possible: the tests compare the device
/// kernels against these, element by element.
/// </summary>
internal static class MoeReference
{
    /// <summary>Softmax per row, the top k by logit (ties to the lower index), descending, optionally renormalised.</summary>
    internal static (double[] Weights, int[] Experts) TopKSoftmax(double[] logits, int tokens, int experts, int topK, bool renormalize)
    {
        var weights = new double[tokens * topK];
        var chosen = new int[tokens * topK];
        for (int t = 0; t < tokens; t++)
        {
            var row = new ArraySegment<double>(logits, t * experts, experts);
            double max = row.Max();
            double sum = row.Sum(v => Math.Exp(v - max));
            int[] order = Enumerable.Range(0, experts).OrderByDescending(e => row[e]).ThenBy(e => e).Take(topK).ToArray();
            double kept = 0;
            for (int j = 0; j < topK; j++)
            {
                chosen[t * topK + j] = order[j];
                weights[t * topK + j] = Math.Exp(row[order[j]] - max) / sum;
                kept += weights[t * topK + j];
            }

            if (renormalize)
            {
                for (int j = 0; j < topK; j++) weights[t * topK + j] /= kept;
            }
        }

        return (weights, chosen);
    }

    /// <summary>Stable sort of slots by expert; ids outside [0, E) go last and are not counted.</summary>
    internal static (long[] Counts, int[] SortedSlots, int[] SlotRows) SortByExpert(int[] experts, int numExperts)
    {
        var counts = new long[numExperts];
        foreach (int e in experts)
        {
            if (e >= 0 && e < numExperts) counts[e]++;
        }

        int Key(int slot) => experts[slot] >= 0 && experts[slot] < numExperts ? experts[slot] : numExperts;
        int[] sorted = Enumerable.Range(0, experts.Length).OrderBy(Key).ToArray(); // LINQ OrderBy is stable
        var slotRows = new int[experts.Length];
        for (int r = 0; r < sorted.Length; r++) slotRows[sorted[r]] = r;
        // Out-of-range ids (dropped tokens) belong to no row: slot row -1, and their rows (past the counted ones) -1.
        for (int r = 0; r < sorted.Length; r++)
        {
            if (Key(sorted[r]) != numExperts) continue;
            slotRows[sorted[r]] = -1;
            sorted[r] = -1;
        }

        return (counts, sorted, slotRows);
    }

    /// <summary>dst[i, :] = src[index[i] / divisor, :]; a negative index gives a zero row.</summary>
    internal static double[] GatherRows(double[] src, int cols, int[] index, int divisor)
    {
        var dst = new double[index.Length * cols];
        for (int i = 0; i < index.Length; i++)
        {
            if (index[i] < 0) continue;
            Array.Copy(src, (long)(index[i] / divisor) * cols, dst, (long)i * cols, cols);
        }

        return dst;
    }

    /// <summary>Expert of every row: from counts (negatives count as zero; rows past the sum get E) or row / rowsPerExpert.</summary>
    internal static int[] ExpertOfRows(int rows, long[]? counts, int rowsPerExpert, int numExperts)
    {
        var owner = new int[rows];
        if (counts is null)
        {
            for (int r = 0; r < rows; r++) owner[r] = r / rowsPerExpert;
            return owner;
        }

        int row = 0;
        for (int e = 0; e < numExperts; e++)
        {
            for (long i = 0; i < Math.Max(0, counts[e]) && row < rows; i++) owner[row++] = e;
        }

        while (row < rows) owner[row++] = numExperts;
        return owner;
    }

    /// <summary>x = act(x + bias[expert of row]) on a copy.</summary>
    internal static double[] BiasActivation(double[] x, int rows, int cols, double[]? bias, long[]? counts,
        int rowsPerExpert, int numExperts, Activation activation)
    {
        int[] owner = ExpertOfRows(rows, counts, rowsPerExpert, numExperts);
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double b = bias is not null && owner[r] < numExperts ? bias[owner[r] * cols + c] : 0;
                y[r * cols + c] = ReferenceMath.Activate(activation, x[r * cols + c] + b);
            }
        }

        return y;
    }

    /// <summary>out = act(gate + bias_gate) * (up + bias_up), gate_up [rows, 2*cols].</summary>
    internal static double[] GatedActivation(double[] gateUp, int rows, int cols, double[]? bias, long[]? counts,
        int rowsPerExpert, int numExperts, Activation activation)
    {
        int[] owner = ExpertOfRows(rows, counts, rowsPerExpert, numExperts);
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            bool hasBias = bias is not null && owner[r] < numExperts;
            for (int c = 0; c < cols; c++)
            {
                double g = gateUp[r * 2 * cols + c] + (hasBias ? bias![owner[r] * 2 * cols + c] : 0);
                double u = gateUp[r * 2 * cols + cols + c] + (hasBias ? bias![owner[r] * 2 * cols + cols + c] : 0);
                y[r * cols + c] = ReferenceMath.Activate(activation, g) * u;
            }
        }

        return y;
    }

    /// <summary>out[t] = residual[t] + sum_j w[t, j] * expertOut[slotRows[t*k + j]].</summary>
    internal static double[] Combine(double[] expertOut, int[] slotRows, double[] weights, double[]? residual,
        int tokens, int topK, int cols)
    {
        var y = residual is null ? new double[tokens * cols] : (double[])residual.Clone();
        for (int t = 0; t < tokens; t++)
        {
            for (int j = 0; j < topK; j++)
            {
                int r = slotRows[t * topK + j];
                if (r < 0) continue;
                double w = weights[t * topK + j];
                for (int c = 0; c < cols; c++) y[t * cols + c] += w * expertOut[(long)r * cols + c];
            }
        }

        return y;
    }

    /// <summary>Sorted rows to [E, capacity, cols] with zero padding; returns the number of dropped rows too.</summary>
    internal static (double[] Padded, long Dropped) Pad(double[] sorted, long[] counts, int capacity, int cols)
    {
        var padded = new double[counts.Length * capacity * cols];
        long offset = 0, dropped = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            long n = Math.Max(0, counts[e]);
            long kept = Math.Min(n, capacity);
            Array.Copy(sorted, offset * cols, padded, (long)e * capacity * cols, kept * cols);
            dropped += n - kept;
            offset += n;
        }

        return (padded, dropped);
    }

    /// <summary>[E, capacity, cols] back to sorted rows (rows past capacity are zero); rows beyond the sum are untouched (NaN here).</summary>
    internal static double[] Unpad(double[] padded, long[] counts, int capacity, int cols, int sortedRows)
    {
        var sorted = Enumerable.Repeat(double.NaN, sortedRows * cols).ToArray();
        long offset = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            long n = Math.Max(0, counts[e]);
            for (long p = 0; p < n; p++)
            {
                for (int c = 0; c < cols; c++)
                    sorted[(offset + p) * cols + c] = p < capacity ? padded[((long)e * capacity + p) * cols + c] : 0;
            }

            offset += n;
        }

        return sorted;
    }
}
