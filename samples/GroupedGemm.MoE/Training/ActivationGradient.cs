namespace GroupedGemm.MoE.Training;

/// <summary>Float64 derivatives of the activations of <see cref="ReferenceMath.Activate"/>.</summary>
internal static class ActivationGradient
{
    /// <summary>d act(x) / dx (ReLU: 0 below zero, 1 from zero on, as <see cref="ReferenceMath.Activate"/> passes x = 0 through).</summary>
    public static double Derivative(Activation activation, double x) => activation switch
    {
        Activation.None => 1,
        Activation.Relu => x < 0 ? 0 : 1,
        // d/dx [x Φ(x)] = Φ(x) + x φ(x), Φ the normal CDF in its exact erf form, φ the normal density.
        Activation.Gelu => 0.5 * (1 + ReferenceMath.Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI),
        // d/dx [x σ(x)] = σ(x) (1 + x (1 − σ(x))).
        Activation.Silu => Sigmoid(x) * (1 + x * (1 - Sigmoid(x))),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
