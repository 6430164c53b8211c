namespace GroupedGemm.MoE;

/// <summary>Float64 building blocks of the CPU reference layer.</summary>
internal static class ReferenceMath
{
    /// <summary>The activation in float64 (GELU in its exact erf form).</summary>
    public static double Activate(Activation activation, double x) => activation switch
    {
        Activation.None => x,
        Activation.Relu => x < 0 ? 0 : x,
        Activation.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        Activation.Silu => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    /// <summary>The error function to about 1e-14 (.NET has none): Maclaurin series below 3, erfc continued fraction above.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x), result;
        if (ax < 3)
        {
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double t = ax;
            for (int n = 80; n >= 1; n--) t = ax + n / 2.0 / t;
            result = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / t;
        }

        return x < 0 ? -result : result;
    }

    /// <summary>y[n] = Σ_k x[k] · w[offset + k·n_cols + n] (+ bias[biasOffset + n]): one row times a row-major [K, N] matrix.</summary>
    public static void RowTimesMatrix(ReadOnlySpan<double> x, float[] w, long offset, int cols, float[]? bias, long biasOffset, Span<double> y)
    {
        for (int n = 0; n < cols; n++) y[n] = bias is null ? 0 : bias[biasOffset + n];
        for (int k = 0; k < x.Length; k++)
        {
            double xk = x[k];
            long row = offset + (long)k * cols;
            for (int n = 0; n < cols; n++) y[n] += xk * w[row + n];
        }
    }

    /// <summary>‖a − b‖₂ / ‖b‖₂ over float64 values.</summary>
    public static double RelativeError(ReadOnlySpan<double> actual, ReadOnlySpan<double> reference)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - reference[i];
            diff += d * d;
            norm += reference[i] * reference[i];
        }

        if (double.IsNaN(diff)) return double.PositiveInfinity;
        return norm == 0 ? (diff == 0 ? 0 : double.PositiveInfinity) : Math.Sqrt(diff / norm);
    }
}
