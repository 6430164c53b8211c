using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>‖actual − expected‖ / ‖expected‖ (Frobenius, in float64), the parity measure.</summary>
internal static class RelativeError
{
    /// <summary>The relative error of <paramref name="actual"/> against <paramref name="expected"/>.</summary>
    /// <param name="actual">The value under test.</param>
    /// <param name="expected">The reference, same shape.</param>
    /// <returns>The relative error (the absolute norm of the difference when the reference is zero).</returns>
    public static double Of(Tensor actual, Tensor expected)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = actual.detach().to_type(ScalarType.Float64).cpu();
        Tensor e = expected.detach().to_type(ScalarType.Float64).cpu();
        double diff = (a - e).norm().item<double>();
        double norm = e.norm().item<double>();
        return norm == 0 ? diff : diff / norm;
    }
}
