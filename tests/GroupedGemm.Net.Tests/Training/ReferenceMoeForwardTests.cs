using GroupedGemm.MoE;
using GroupedGemm.MoE.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Training;

/// <summary>
/// The trainable float64 layer computes the sample's CPU forward (<see cref="MoeLayer.Reference"/>) from the same seed:
/// same parameters, routing, weights (renormalised or not), shared experts. No GPU: the layer is built host-only.
/// </summary>
[TestFixture]
internal sealed class ReferenceMoeForwardTests
{
    [Test]
    public void Forward_matches_the_sample_layer_reference(
        [Values(false, true)] bool gated,
        [Values(Activation.Gelu, Activation.Silu, Activation.Relu)] Activation activation,
        [Values(false, true)] bool renormalize,
        [Values(DType.BFloat16, DType.Float32)] DType dtype)
    {
        var options = new MoeOptions(1, 10, 16, 24, 6, 3, 2, dtype, gated, activation, Routing.Uniform, renormalize, 1, 0, 77, 10);
        using var sample = new MoeLayer(options, onDevice: false);
        var layer = new ReferenceMoe(MoeParameters.FromSeed(ReferenceMoeConfig.From(options), options.Seed, dtype));
        var random = new Random(3);
        double[] x = Enumerable.Range(0, options.Tokens * options.EmbedDim).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        MoeForwardState state = layer.Forward(x, options.Tokens);
        for (int t = 0; t < options.Tokens; t++)
        {
            (double[] expected, _, int[] experts) = sample.Reference(x.AsSpan(t * 16, 16), t, ReadOnlySpan<int>.Empty);
            Assert.That(state.Chosen.Skip(t * 3).Take(3), Is.EqualTo(experts), $"token {t} routing");
            Assert.That(ReferenceMath.RelativeError(state.Output.AsSpan(t * 16, 16), expected), Is.LessThan(1e-13), $"token {t} output");
        }
    }
}
