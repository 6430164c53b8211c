using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>
/// The parity measure of one tensor against its reference: ‖actual − expected‖ and ‖expected‖ (Frobenius, in
/// float64), and their ratio.
/// </summary>
/// <param name="Difference">‖actual − expected‖.</param>
/// <param name="Reference">‖expected‖.</param>
internal readonly record struct RelativeError(double Difference, double Reference)
{
    /// <summary>
    /// Whether the reference is all zero. Then there is no relative error, and a check against it says nothing: an
    /// all-zero reference matched by an all-zero result (a gradient that never arrives, on both paths) would
    /// otherwise pass with a difference of 0.
    /// </summary>
    public bool ReferenceIsZero => Reference == 0;

    /// <summary>‖actual − expected‖ / ‖expected‖; NaN when the reference is all zero (see <see cref="ReferenceIsZero"/>).</summary>
    public double Relative => ReferenceIsZero ? double.NaN : Difference / Reference;

    /// <summary>Measures <paramref name="actual"/> against <paramref name="expected"/>.</summary>
    /// <param name="actual">The value under test.</param>
    /// <param name="expected">The reference, same shape.</param>
    /// <returns>Both norms.</returns>
    public static RelativeError Of(Tensor actual, Tensor expected)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = actual.detach().to_type(ScalarType.Float64).cpu();
        Tensor e = expected.detach().to_type(ScalarType.Float64).cpu();
        return new RelativeError((a - e).norm().item<double>(), e.norm().item<double>());
    }
}
