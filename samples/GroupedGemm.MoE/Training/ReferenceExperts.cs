namespace GroupedGemm.MoE.Training;

/// <summary>
/// Forward and backward of one expert on one row, in float64: first = x·W1[e] + b1[e], hidden = act(first) (plain)
/// or act(gate)·up (gated, first = gate | up), y = hidden·W2[e] + b2[e]. The same math as
/// <see cref="ExpertFeedForward.ReferenceAccumulate"/>, keeping the intermediates that backward needs.
/// </summary>
internal static class ReferenceExperts
{
    /// <summary>Runs expert <paramref name="expert"/> on row x [D]; fills first [F], hidden [H] and y [D].</summary>
    public static void Forward(ExpertParameters p, Activation activation, int expert, ReadOnlySpan<double> x,
        Span<double> first, Span<double> hidden, Span<double> y)
    {
        int d = p.EmbedDim, f = p.FirstWidth, h = p.HiddenDim;
        RowTimesMatrix(x, p.W1.AsSpan((int)((long)expert * d * f), d * f), f, p.B1 is null ? default : p.B1.AsSpan(expert * f, f), first);
        for (int i = 0; i < h; i++)
        {
            hidden[i] = p.Gated
                ? ReferenceMath.Activate(activation, first[i]) * first[h + i]
                : ReferenceMath.Activate(activation, first[i]);
        }

        RowTimesMatrix(hidden, p.W2.AsSpan((int)((long)expert * h * d), h * d), d, p.B2 is null ? default : p.B2.AsSpan(expert * d, d), y);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> given dy [D]: adds the expert's parameter gradients into
    /// <paramref name="grads"/> and x's gradient into <paramref name="dx"/> [D].
    /// </summary>
    public static void Backward(ExpertParameters p, ExpertParameters grads, Activation activation, int expert,
        ReadOnlySpan<double> x, ReadOnlySpan<double> first, ReadOnlySpan<double> hidden, ReadOnlySpan<double> dy, Span<double> dx)
    {
        int d = p.EmbedDim, f = p.FirstWidth, h = p.HiddenDim;
        long w1 = (long)expert * d * f, w2 = (long)expert * h * d;

        // y = hidden·W2 + b2: db2 = dy, dW2 = hiddenᵀ dy, dhidden = W2 dy.
        if (grads.B2 is not null)
        {
            for (int n = 0; n < d; n++) grads.B2[expert * d + n] += dy[n];
        }

        var dHidden = new double[h];
        for (int i = 0; i < h; i++)
        {
            long row = w2 + (long)i * d;
            double sum = 0;
            for (int n = 0; n < d; n++)
            {
                grads.W2[row + n] += hidden[i] * dy[n];
                sum += p.W2[row + n] * dy[n];
            }

            dHidden[i] = sum;
        }

        // The hidden step's backward: plain act' · dhidden; gated d gate = dhidden · up · act'(gate), d up = dhidden · act(gate).
        var dFirst = new double[f];
        for (int i = 0; i < h; i++)
        {
            if (p.Gated)
            {
                dFirst[i] = dHidden[i] * first[h + i] * ActivationGradient.Derivative(activation, first[i]);
                dFirst[h + i] = dHidden[i] * ReferenceMath.Activate(activation, first[i]);
            }
            else
            {
                dFirst[i] = dHidden[i] * ActivationGradient.Derivative(activation, first[i]);
            }
        }

        // first = x·W1 + b1: db1 = dfirst, dW1 = xᵀ dfirst, dx += W1 dfirst.
        if (grads.B1 is not null)
        {
            for (int n = 0; n < f; n++) grads.B1[expert * f + n] += dFirst[n];
        }

        for (int k = 0; k < d; k++)
        {
            long row = w1 + (long)k * f;
            double sum = 0;
            for (int n = 0; n < f; n++)
            {
                grads.W1[row + n] += x[k] * dFirst[n];
                sum += p.W1[row + n] * dFirst[n];
            }

            dx[k] += sum;
        }
    }

    /// <summary>y = x·w (+ bias): one row times a row-major [K, N] matrix, N = y.Length.</summary>
    private static void RowTimesMatrix(ReadOnlySpan<double> x, ReadOnlySpan<double> w, int cols, ReadOnlySpan<double> bias, Span<double> y)
    {
        for (int n = 0; n < cols; n++) y[n] = bias.IsEmpty ? 0 : bias[n];
        for (int k = 0; k < x.Length; k++)
        {
            double xk = x[k];
            ReadOnlySpan<double> row = w.Slice(k * cols, cols);
            for (int n = 0; n < cols; n++) y[n] += xk * row[n];
        }
    }
}
