namespace GroupedGemm.Tests.Moe;

/// <summary>The activations of the MoE kernels in float64, including an erf accurate to about 1e-14.</summary>
internal static class ReferenceActivation
{
    /// <summary>Applies <paramref name="activation"/> to one value.</summary>
    internal static double Apply(Activation activation, double x) => activation switch
    {
        Activation.None => x,
        Activation.Relu => x < 0 ? 0 : x,
        Activation.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        Activation.Silu => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    /// <summary>The error function: Maclaurin series below 3, continued fraction of erfc above (.NET has no Math.Erf).</summary>
    internal static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        double result;
        if (ax < 3)
        {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); terms peak near n = x^2, ~1e3 at x = 3.
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
            // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail.
            double t = ax;
            for (int n = 80; n >= 1; n--) t = ax + n / 2.0 / t;
            result = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / t;
        }

        return x < 0 ? -result : result;
    }
}
