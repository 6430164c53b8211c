using GroupedGemm.MoE.Training;
using GroupedGemm.Tests.Gpu;
using GroupedGemm.Tests.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// One training step of the whole MoE layer on the GPU (the sample's <see cref="GpuMoeLayer"/>: router GEMM, top-k
/// softmax, sort, gather, expert grouped GEMMs with their epilogues, combine, shared experts; then every backward
/// kernel, <c>GmmBackward</c> and the load-balancing loss) against the sample's float64 <see cref="ReferenceMoe"/>: the
/// output, the loss and every gradient, in float32 so that the bound is tight.
/// </summary>
[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class MoeLayerBackwardTests : GpuFixture
{
    private const double AuxCoefficient = 0.1;
    private const double Bound = 5e-4;

    private static readonly ReferenceMoeConfig[] Configs =
    [
        new(EmbedDim: 32, HiddenDim: 48, NumExperts: 6, TopK: 2, NumShared: 1, Gated: false, Activation.Gelu, Renormalize: true),
        new(EmbedDim: 32, HiddenDim: 40, NumExperts: 5, TopK: 2, NumShared: 2, Gated: true, Activation.Silu, Renormalize: false),
        new(EmbedDim: 24, HiddenDim: 32, NumExperts: 4, TopK: 1, NumShared: 0, Gated: false, Activation.Relu, Renormalize: false),
        new(EmbedDim: 16, HiddenDim: 24, NumExperts: 1, TopK: 1, NumShared: 0, Gated: true, Activation.Gelu, Renormalize: true),
    ];

    [Test]
    public void One_step_matches_the_float64_reference([ValueSource(nameof(Configs))] ReferenceMoeConfig config)
    {
        const int tokens = 37;
        TrainingCase c = TrainingCase.Draw(config, tokens, seed: 2024);
        MoeForwardState state = c.Layer.Forward(c.X, tokens);
        (MoeParameters expected, double[] dxExpected) = c.Layer.Backward(state, c.OutputWeights, AuxCoefficient);

        using var layer = new GpuMoeLayer(Context, c.Layer.Parameters);
        using GpuMoeStep step = layer.Forward(c.X, tokens);
        MoeTestData.AssertClose(DeviceScratch.Download(step.Output), state.Output, Bound, $"{config}: output");
        Assert.That(step.AuxLoss, Is.EqualTo(state.AuxLoss).Within(1e-5 * state.AuxLoss), "aux loss");
        (MoeParameters actual, double[] dx) = step.Backward(c.OutputWeights, AuxCoefficient);

        AssertGradient(dx, dxExpected, $"{config}: dx");
        foreach (((string name, double[] got), (_, double[] want)) in actual.Tensors().Zip(expected.Tensors()))
            AssertGradient(got, want, $"{config}: {name}");
    }

    // Relative error within Bound; a gradient that is zero in exact arithmetic (one expert, one kept weight) must stay
    // within float32 rounding of zero instead, since a relative error has no meaning there.
    private static void AssertGradient(double[] actual, double[] expected, string what)
    {
        Assert.That(actual.Any(double.IsNaN), Is.False, $"{what}: NaN (an element never written?)");
        if (expected.All(v => Math.Abs(v) < 1e-12))
        {
            Assert.That(actual.Select(Math.Abs).Max(), Is.LessThan(1e-6), $"{what}: zero gradient");
            return;
        }

        MoeTestData.AssertClose(actual, expected, Bound, what);
    }
}
