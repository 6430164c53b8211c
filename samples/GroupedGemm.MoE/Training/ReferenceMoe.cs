namespace GroupedGemm.MoE.Training;

/// <summary>
/// The sample's MoE layer as a float64 CPU layer with a backward, the reference for training and for the GPU backward.
/// Forward (the semantics of <see cref="MoeLayer.Reference"/> under uniform routing): logits = x·Wr, p = softmax(logits),
/// the top-k experts (descending, ties to the lower index), weights = the chosen probabilities (renormalised over the
/// kept ones when configured), dispatch sorted by expert, each slot's expert FFN, combine out[t] = Σ_j w[t, j]·y[t, j],
/// plus every shared expert with weight 1. Backward differentiates everything but the top-k selection (as PyTorch
/// does): gradients of x, Wr, every expert parameter, and of the optional load-balancing loss
/// (<see cref="MoeForwardState.AuxLoss"/>), whose expert fractions f_e are counts and so constant.
/// </summary>
internal sealed class ReferenceMoe(MoeParameters parameters)
{
    /// <summary>The parameters (updated in place by an optimiser).</summary>
    public MoeParameters Parameters { get; } = parameters;

    /// <summary>The configuration.</summary>
    public ReferenceMoeConfig Config => Parameters.Config;

    /// <summary>Forward over x [T, D] (kept by reference in the returned state for backward).</summary>
    public MoeForwardState Forward(double[] x, int tokens)
    {
        ReferenceMoeConfig c = Config;
        if (tokens < 1 || x.LongLength != (long)tokens * c.EmbedDim)
            throw new ArgumentException($"x has {x.LongLength} values; {tokens} tokens × D {c.EmbedDim} expected.", nameof(x));
        var s = new MoeForwardState(c, tokens, x);
        int d = c.EmbedDim, e = c.NumExperts, k = c.TopK;
        for (int t = 0; t < tokens; t++) Route(x.AsSpan(t * d, d), t, s);
        Dispatch(s);

        // Routed experts in dispatch order (by expert), combined into the token's output row.
        foreach (int slot in s.SortedSlots)
        {
            int t = slot / k;
            Span<double> y = s.SlotOutput.AsSpan(slot * d, d);
            ReferenceExperts.Forward(Parameters.Routed, c.Activation, s.Chosen[slot], x.AsSpan(t * d, d),
                s.SlotFirst.AsSpan(slot * c.FirstWidth, c.FirstWidth), s.SlotHidden.AsSpan(slot * c.HiddenDim, c.HiddenDim), y);
            Span<double> output = s.Output.AsSpan(t * d, d);
            for (int n = 0; n < d; n++) output[n] += s.Weights[slot] * y[n];
        }

        // Shared experts: dense, every token, weight 1.
        var sharedY = new double[d];
        for (int j = 0; j < c.NumShared; j++)
        {
            for (int t = 0; t < tokens; t++)
            {
                int row = j * tokens + t;
                ReferenceExperts.Forward(Parameters.Shared!, c.Activation, j, x.AsSpan(t * d, d),
                    s.SharedFirst.AsSpan(row * c.FirstWidth, c.FirstWidth), s.SharedHidden.AsSpan(row * c.HiddenDim, c.HiddenDim), sharedY);
                Span<double> output = s.Output.AsSpan(t * d, d);
                for (int n = 0; n < d; n++) output[n] += sharedY[n];
            }
        }

        // Switch-style balance: f_e the share of slots (top-k, not top-1) routed to e, P_e the mean probability.
        double aux = 0;
        for (int ex = 0; ex < e; ex++)
        {
            s.ExpertFraction[ex] = s.Counts[ex] / (double)(tokens * k);
            double sum = 0;
            for (int t = 0; t < tokens; t++) sum += s.Probabilities[t * e + ex];
            s.MeanProbability[ex] = sum / tokens;
            aux += s.ExpertFraction[ex] * s.MeanProbability[ex];
        }

        s.AuxLoss = e * aux;
        return s;
    }

    /// <summary>
    /// Backward of the loss L = Σ dOutput ⊙ output + <paramref name="auxCoefficient"/> · AuxLoss: the gradients of every
    /// parameter (same layout as <see cref="Parameters"/>) and of x [T, D].
    /// </summary>
    public (MoeParameters Gradients, double[] Dx) Backward(MoeForwardState s, double[] dOutput, double auxCoefficient)
    {
        ReferenceMoeConfig c = Config;
        int tokens = s.Tokens, d = c.EmbedDim, e = c.NumExperts, k = c.TopK;
        if (dOutput.LongLength != s.Output.LongLength)
            throw new ArgumentException($"dOutput has {dOutput.LongLength} values; {s.Output.LongLength} expected.", nameof(dOutput));
        var grads = new MoeParameters(c);
        var dx = new double[s.X.LongLength];
        var dWeights = new double[s.Weights.Length];

        // Routed experts: dy = w · dout (the combine's backward), dw = dout · y (the weight's gradient).
        var dy = new double[d];
        foreach (int slot in s.SortedSlots)
        {
            int t = slot / k;
            ReadOnlySpan<double> dOut = dOutput.AsSpan(t * d, d), y = s.SlotOutput.AsSpan(slot * d, d);
            double dw = 0;
            for (int n = 0; n < d; n++)
            {
                dy[n] = s.Weights[slot] * dOut[n];
                dw += dOut[n] * y[n];
            }

            dWeights[slot] = dw;
            ReferenceExperts.Backward(Parameters.Routed, grads.Routed, c.Activation, s.Chosen[slot], s.X.AsSpan(t * d, d),
                s.SlotFirst.AsSpan(slot * c.FirstWidth, c.FirstWidth), s.SlotHidden.AsSpan(slot * c.HiddenDim, c.HiddenDim), dy,
                dx.AsSpan(t * d, d));
        }

        for (int j = 0; j < c.NumShared; j++)
        {
            for (int t = 0; t < tokens; t++)
            {
                int row = j * tokens + t;
                ReferenceExperts.Backward(Parameters.Shared!, grads.Shared!, c.Activation, j, s.X.AsSpan(t * d, d),
                    s.SharedFirst.AsSpan(row * c.FirstWidth, c.FirstWidth), s.SharedHidden.AsSpan(row * c.HiddenDim, c.HiddenDim),
                    dOutput.AsSpan(t * d, d), dx.AsSpan(t * d, d));
            }
        }

        // Router: combine weights → probabilities → logits → Wr and x.
        var dp = new double[e];
        var dLogits = new double[e];
        for (int t = 0; t < tokens; t++)
        {
            ReadOnlySpan<double> p = s.Probabilities.AsSpan(t * e, e);
            // The aux loss E · Σ f_e · mean_t p[t, e] gives every token dp[e] = coef · E · f_e / T (f_e constant).
            for (int ex = 0; ex < e; ex++) dp[ex] = auxCoefficient * e * s.ExpertFraction[ex] / tokens;
            if (c.Renormalize)
            {
                // w_j = p_j / S, S = Σ_kept p: dp_j = (dw_j − Σ_i dw_i · w_i) / S.
                double kept = 0, dot = 0;
                for (int j = 0; j < k; j++)
                {
                    kept += p[s.Chosen[t * k + j]];
                    dot += dWeights[t * k + j] * s.Weights[t * k + j];
                }

                for (int j = 0; j < k; j++) dp[s.Chosen[t * k + j]] += (dWeights[t * k + j] - dot) / kept;
            }
            else
            {
                for (int j = 0; j < k; j++) dp[s.Chosen[t * k + j]] += dWeights[t * k + j];
            }

            // Softmax backward: dlogit_e = p_e (dp_e − Σ_i p_i dp_i).
            double mean = 0;
            for (int ex = 0; ex < e; ex++) mean += p[ex] * dp[ex];
            for (int ex = 0; ex < e; ex++) dLogits[ex] = p[ex] * (dp[ex] - mean);

            // logits = x·Wr: dWr += xᵀ dlogits, dx += Wr dlogits.
            for (int n = 0; n < d; n++)
            {
                double xn = s.X[t * d + n], sum = 0;
                for (int ex = 0; ex < e; ex++)
                {
                    grads.Router[n * e + ex] += xn * dLogits[ex];
                    sum += Parameters.Router[n * e + ex] * dLogits[ex];
                }

                dx[t * d + n] += sum;
            }
        }

        return (grads, dx);
    }

    /// <summary>The top-k of probabilities p: descending, ties to the lower index (the rule of <see cref="Router.ReferenceTopK"/>).</summary>
    public static int[] TopK(ReadOnlySpan<double> p, int k)
    {
        double[] values = p.ToArray();
        return Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k).ToArray();
    }

    private void Route(ReadOnlySpan<double> x, int t, MoeForwardState s)
    {
        ReferenceMoeConfig c = Config;
        int e = c.NumExperts, k = c.TopK;
        Span<double> p = s.Probabilities.AsSpan(t * e, e);
        p.Clear();
        for (int n = 0; n < c.EmbedDim; n++)
        {
            for (int ex = 0; ex < e; ex++) p[ex] += x[n] * Parameters.Router[n * e + ex];
        }

        // Softmax with the max subtracted, as Router.ReferenceProbabilities.
        double max = double.NegativeInfinity, sum = 0;
        foreach (double v in p) max = Math.Max(max, v);
        for (int ex = 0; ex < e; ex++) sum += p[ex] = Math.Exp(p[ex] - max);
        for (int ex = 0; ex < e; ex++) p[ex] /= sum;

        int[] chosen = TopK(p, k);
        double kept = 0;
        for (int j = 0; j < k; j++) kept += p[chosen[j]];
        for (int j = 0; j < k; j++)
        {
            s.Chosen[t * k + j] = chosen[j];
            s.Weights[t * k + j] = c.Renormalize ? p[chosen[j]] / kept : p[chosen[j]];
        }
    }

    /// <summary>Counts per expert and the slots sorted by expert (a stable counting sort, as the device's dispatch).</summary>
    private static void Dispatch(MoeForwardState s)
    {
        foreach (int expert in s.Chosen) s.Counts[expert]++;
        var next = new long[s.Counts.Length];
        for (int ex = 1; ex < next.Length; ex++) next[ex] = next[ex - 1] + s.Counts[ex - 1];
        for (int slot = 0; slot < s.Chosen.Length; slot++) s.SortedSlots[next[s.Chosen[slot]]++] = slot;
    }
}
