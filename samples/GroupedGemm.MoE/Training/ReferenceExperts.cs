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

        // y = hidden·W2 + b2.
        var dHidden = new double[h];
        RowTimesMatrixBackward(hidden, p.W2.AsSpan((int)w2, h * d), dy, grads.W2.AsSpan((int)w2, h * d),
            grads.B2 is null ? default : grads.B2.AsSpan(expert * d, d), dHidden);

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

        // first = x·W1 + b1.
        RowTimesMatrixBackward(x, p.W1.AsSpan((int)w1, d * f), dFirst, grads.W1.AsSpan((int)w1, d * f),
            grads.B1 is null ? default : grads.B1.AsSpan(expert * f, f), dx);
    }

    /// <summary>
    /// Backward of <see cref="RowTimesMatrix"/> (y = x·w + bias, w row-major [K, N]) given dy [N]: adds xᵀ·dy into
    /// dw, dy into dbias (when given) and w·dy into dx [K].
    /// </summary>
    private static void RowTimesMatrixBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> w, ReadOnlySpan<double> dy,
        Span<double> dw, Span<double> dbias, Span<double> dx)
    {
        int cols = dy.Length;
        for (int n = 0; n < dbias.Length; n++) dbias[n] += dy[n];
        for (int k = 0; k < x.Length; k++)
        {
            ReadOnlySpan<double> row = w.Slice(k * cols, cols);
            Span<double> dRow = dw.Slice(k * cols, cols);
            double sum = 0;
            for (int n = 0; n < cols; n++)
            {
                dRow[n] += x[k] * dy[n];
                sum += row[n] * dy[n];
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
