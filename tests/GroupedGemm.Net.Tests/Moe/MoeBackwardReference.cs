using GroupedGemm.MoE;
using GroupedGemm.MoE.Training;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Float64 CPU references of the MoE backward kernels, written from the forward definitions (<see cref="MoeReference"/>)
/// and the sample's float64 derivatives (<see cref="ActivationGradient"/>), in the plain chain-rule form of the sample's
/// <see cref="ReferenceMoe.Backward"/> rather than the kernels' simplified algebra, so that a slip in either shows.
/// </summary>
internal static class MoeBackwardReference
{
    /// <summary>
    /// Combine backward: dExpert[r] = w[s] · dy[t] for the slot s routed to row r (NaN for rows no slot maps to: the
    /// kernel leaves them as they are), dWeights[s] = dy[t] · expertOut[r] (0 for a dropped slot).
    /// </summary>
    internal static (double[] DExpert, double[] DWeights) CombineBackward(double[] dy, double[] expertOut, int[] slotRows,
        double[] weights, int tokens, int topK, int cols, int expertRows)
    {
        var dExpert = Enumerable.Repeat(double.NaN, expertRows * cols).ToArray();
        var dWeights = new double[tokens * topK];
        for (int t = 0; t < tokens; t++)
        {
            for (int j = 0; j < topK; j++)
            {
                int s = t * topK + j, r = slotRows[s];
                if (r < 0 || r >= expertRows) continue;
                double dot = 0;
                for (int c = 0; c < cols; c++)
                {
                    dExpert[r * cols + c] = weights[s] * dy[t * cols + c];
                    dot += dy[t * cols + c] * expertOut[r * cols + c];
                }

                dWeights[s] = dot;
            }
        }

        return (dExpert, dWeights);
    }

    /// <summary>Gather backward: dSrc[t] = initial[t] (or 0) + Σ_j dRows[slotRows[t·k + j]] over the routed slots.</summary>
    internal static double[] GatherRowsBackward(double[] dRows, int rows, int[] slotRows, int tokens, int topK, int cols,
        double[]? initial)
    {
        double[] dSrc = initial is null ? new double[tokens * cols] : (double[])initial.Clone();
        for (int s = 0; s < tokens * topK; s++)
        {
            int r = slotRows[s];
            if (r < 0 || r >= rows) continue;
            for (int c = 0; c < cols; c++) dSrc[s / topK * cols + c] += dRows[r * cols + c];
        }

        return dSrc;
    }

    /// <summary>Activation backward: dx = dy · act'(x + bias[expert of row]).</summary>
    internal static double[] ActivationBackward(double[] x, int rows, int cols, double[]? bias, long[]? counts,
        int rowsPerExpert, int numExperts, Activation activation, double[] dy)
    {
        int[] owner = MoeReference.ExpertOfRows(rows, counts, rowsPerExpert, numExperts);
        var dx = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double b = bias is not null && owner[r] < numExperts ? bias[owner[r] * cols + c] : 0;
                dx[r * cols + c] = dy[r * cols + c] * ActivationGradient.Derivative(activation, x[r * cols + c] + b);
            }
        }

        return dx;
    }

    /// <summary>Gated backward: [dGate | dUp] = [dy · u · act'(g), dy · act(g)] with the biases added to g and u.</summary>
    internal static double[] GatedActivationBackward(double[] gateUp, int rows, int cols, double[]? bias, long[]? counts,
        int rowsPerExpert, int numExperts, Activation activation, double[] dy)
    {
        int[] owner = MoeReference.ExpertOfRows(rows, counts, rowsPerExpert, numExperts);
        var d = new double[gateUp.Length];
        for (int r = 0; r < rows; r++)
        {
            bool hasBias = bias is not null && owner[r] < numExperts;
            for (int c = 0; c < cols; c++)
            {
                int gi = r * 2 * cols + c, ui = gi + cols;
                double g = gateUp[gi] + (hasBias ? bias![owner[r] * 2 * cols + c] : 0);
                double u = gateUp[ui] + (hasBias ? bias![owner[r] * 2 * cols + cols + c] : 0);
                d[gi] = dy[r * cols + c] * u * ActivationGradient.Derivative(activation, g);
                d[ui] = dy[r * cols + c] * ReferenceMath.Activate(activation, g);
            }
        }

        return d;
    }

    /// <summary>Bias gradient: dBias[e] = initial[e] (or 0) + Σ dy[r] over the rows of expert e (rows past the counts' sum: none).</summary>
    internal static double[] BiasGradient(double[] dy, int rows, int cols, long[]? counts, int rowsPerExpert, int numExperts,
        double[]? initial)
    {
        int[] owner = MoeReference.ExpertOfRows(rows, counts, rowsPerExpert, numExperts);
        double[] dBias = initial is null ? new double[numExperts * cols] : (double[])initial.Clone();
        for (int r = 0; r < rows; r++)
        {
            if (owner[r] >= numExperts) continue;
            for (int c = 0; c < cols; c++) dBias[owner[r] * cols + c] += dy[r * cols + c];
        }

        return dBias;
    }

    /// <summary>
    /// Top-k softmax backward in the chain-rule form of <see cref="ReferenceMoe.Backward"/>: the weights' gradient to the
    /// probabilities (through the renormalisation when on), then the full softmax's backward. Slots with an expert id
    /// outside [0, E) are ignored.
    /// </summary>
    internal static double[] TopKSoftmaxBackward(double[] logits, int[] experts, double[] weights, double[] dWeights,
        int tokens, int numExperts, int topK, bool renormalize)
    {
        var dLogits = new double[tokens * numExperts];
        for (int t = 0; t < tokens; t++)
        {
            double[] p = Softmax(logits, t, numExperts);
            var dp = new double[numExperts];
            double kept = 0, dot = 0;
            for (int j = 0; j < topK; j++)
            {
                int e = experts[t * topK + j];
                if (e < 0 || e >= numExperts) continue;
                kept += p[e];
                dot += dWeights[t * topK + j] * weights[t * topK + j];
            }

            for (int j = 0; j < topK; j++)
            {
                int e = experts[t * topK + j];
                if (e < 0 || e >= numExperts) continue;
                dp[e] += renormalize ? (dWeights[t * topK + j] - dot) / kept : dWeights[t * topK + j];
            }

            SoftmaxBackward(p, dp, dLogits.AsSpan(t * numExperts, numExperts));
        }

        return dLogits;
    }

    /// <summary>
    /// Switch load-balancing loss coefficient · E · Σ_e f_e · P_e (f_e = counts / (tokens · k), P_e the mean probability)
    /// and its logits' gradient: every token gets dp[e] = coefficient · E · f_e / tokens, then the softmax's backward.
    /// </summary>
    internal static (double Loss, double[] DLogits) LoadBalancingLoss(double[] logits, long[] counts, int tokens, int numExperts,
        int topK, double coefficient)
    {
        var dLogits = new double[tokens * numExperts];
        var mean = new double[numExperts];
        var dp = new double[numExperts];
        for (int e = 0; e < numExperts; e++) dp[e] = coefficient * numExperts * Fraction(counts, e, tokens, topK) / tokens;
        for (int t = 0; t < tokens; t++)
        {
            double[] p = Softmax(logits, t, numExperts);
            for (int e = 0; e < numExperts; e++) mean[e] += p[e] / tokens;
            SoftmaxBackward(p, dp, dLogits.AsSpan(t * numExperts, numExperts));
        }

        double loss = 0;
        for (int e = 0; e < numExperts; e++) loss += Fraction(counts, e, tokens, topK) * mean[e];
        return (coefficient * numExperts * loss, dLogits);
    }

    private static double Fraction(long[] counts, int e, int tokens, int topK) => Math.Max(0, counts[e]) / ((double)tokens * topK);

    private static double[] Softmax(double[] logits, int t, int numExperts)
    {
        var row = new ArraySegment<double>(logits, t * numExperts, numExperts);
        double max = row.Max();
        double[] p = row.Select(v => Math.Exp(v - max)).ToArray();
        double sum = p.Sum();
        for (int e = 0; e < numExperts; e++) p[e] /= sum;
        return p;
    }

    // dlogit_e = p_e (dp_e − Σ_i p_i dp_i).
    private static void SoftmaxBackward(double[] p, double[] dp, Span<double> dLogits)
    {
        double mean = 0;
        for (int e = 0; e < p.Length; e++) mean += p[e] * dp[e];
        for (int e = 0; e < p.Length; e++) dLogits[e] = p[e] * (dp[e] - mean);
    }
}
