using GroupedGemm.MoE.Training;
using GroupedGemm.Tests.Gpu;
using GroupedGemm.Tests.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// The sample's <see cref="GpuMoeLayer"/> in bf16 and fp16, whose grouped GEMMs read the expert counts on the device
/// (no host synchronisation in the step), against the float64 <see cref="ReferenceMoe"/>; and the reusable step: a
/// second step over the same batch allocates nothing and repeats the first bit for bit.
/// </summary>
/// <remarks>
/// The half-precision logits may reorder two experts whose probabilities are close, which would route a token
/// elsewhere than the reference does; the cases are drawn so that the k-th and (k+1)-th probabilities of every token
/// differ by at least <see cref="RoutingGap"/>, about ten times what bf16 rounding of x, Wr and the logits moves a probability.
/// </remarks>
[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class MoeLayerDeviceStepTests : GpuFixture
{
    private const double AuxCoefficient = 0.1;
    private const double RoutingGap = 3e-3;
    private const int Tokens = 16;

    // No ReLU case: its kink at zero is not differentiable, and half-precision pre-activations cross it.
    private static readonly ReferenceMoeConfig[] Configs =
    [
        new(EmbedDim: 32, HiddenDim: 48, NumExperts: 6, TopK: 2, NumShared: 1, Gated: false, Activation.Gelu, Renormalize: true),
        new(EmbedDim: 32, HiddenDim: 40, NumExperts: 5, TopK: 2, NumShared: 2, Gated: true, Activation.Silu, Renormalize: false),
        new(EmbedDim: 64, HiddenDim: 64, NumExperts: 8, TopK: 2, NumShared: 1, Gated: false, Activation.Gelu, Renormalize: false),
        new(EmbedDim: 16, HiddenDim: 24, NumExperts: 1, TopK: 1, NumShared: 0, Gated: true, Activation.Gelu, Renormalize: true),
    ];

    private static readonly DType[] HalfTypes = [DType.BFloat16, DType.Float16];

    [Test]
    public void A_half_precision_step_with_device_counts_matches_the_float64_reference(
        [ValueSource(nameof(HalfTypes))] DType dtype, [ValueSource(nameof(Configs))] ReferenceMoeConfig config)
    {
        TrainingCase c = Draw(config);
        MoeForwardState state = c.Layer.Forward(c.X, Tokens);
        (MoeParameters expected, double[] dxExpected) = c.Layer.Backward(state, c.OutputWeights, AuxCoefficient);

        using var layer = new GpuMoeLayer(Context, c.Layer.Parameters, dtype);
        Assert.That(layer.DeviceCounts, Is.True, "bf16 and fp16 layers run their GEMMs with device counts");
        using GpuMoeStep step = layer.Forward(c.X, Tokens);
        double bound = Bound(dtype);
        MoeTestData.AssertClose(DeviceScratch.Download(step.Output), state.Output, bound, $"{dtype} {config}: output");
        Assert.That(step.AuxLoss, Is.EqualTo(state.AuxLoss).Within(bound * state.AuxLoss), "aux loss");
        (MoeParameters actual, double[] dx) = step.Backward(c.OutputWeights, AuxCoefficient);

        AssertGradient(dx, dxExpected, bound, $"{dtype} {config}: dx");
        foreach (((string name, double[] got), (_, double[] want)) in actual.Tensors().Zip(expected.Tensors()))
            AssertGradient(got, want, bound, $"{dtype} {config}: {name}");
    }

    [Test]
    public void A_reused_step_allocates_nothing_and_repeats_bit_for_bit(
        [Values(DType.BFloat16, DType.Float32)] DType dtype, [Values(0, 1)] int configIndex)
    {
        ReferenceMoeConfig config = Configs[configIndex];
        TrainingCase c = Draw(config);
        using var layer = new GpuMoeLayer(Context, c.Layer.Parameters, dtype);
        using GpuMoeStep step = layer.NewStep(Tokens); // poisons every buffer it hands out
        using DeviceTensor x = DeviceTensor.Allocate(dtype, Tokens, config.EmbedDim);
        using DeviceTensor dOut = DeviceTensor.Allocate(dtype, Tokens, config.EmbedDim);
        DeviceScratch.Load(x, c.X);
        DeviceScratch.Load(dOut, c.OutputWeights);

        (double[] Output, double[][] Gradients) Once()
        {
            step.Forward(x);
            double[] output = DeviceScratch.Download(step.Output);
            GpuMoeGradients g = step.Backward(dOut, AuxCoefficient);
            Assert.That(g.Tensors().Select(t => t.ElementCount), Is.EqualTo(layer.Tensors().Select(p => p.ElementCount)),
                "gradients line up with the parameters");
            return (output, g.Tensors().Append(g.Dx).Select(DeviceScratch.Download).ToArray());
        }

        (double[] output1, double[][] grads1) = Once();
        long allocations = step.Scratch.Allocations;
        (double[] output2, double[][] grads2) = Once();
        Assert.That(step.Scratch.Allocations, Is.EqualTo(allocations), "the second step allocated device memory");
        MoeTestData.AssertExact(output2, output1, $"{dtype}: output of the second step");
        for (int i = 0; i < grads1.Length; i++) MoeTestData.AssertExact(grads2[i], grads1[i], $"{dtype}: gradient {i} of the second step");
    }

    [Test]
    public void A_captured_step_replays_the_eager_step_bit_for_bit([Values(0, 1)] int configIndex)
    {
        ReferenceMoeConfig config = Configs[configIndex];
        TrainingCase c = Draw(config);
        using var layer = new GpuMoeLayer(Context, c.Layer.Parameters, DType.BFloat16);
        using GpuMoeStep step = layer.NewStep(Tokens); // poisons every buffer it hands out, also in the graph
        using DeviceTensor x = DeviceTensor.Allocate(DType.BFloat16, Tokens, config.EmbedDim);
        using DeviceTensor dOut = DeviceTensor.Allocate(DType.BFloat16, Tokens, config.EmbedDim);
        DeviceScratch.Load(x, c.X);
        DeviceScratch.Load(dOut, c.OutputWeights);
        CudaDevice.Synchronize();

        step.Forward(x);
        double[] eagerOutput = DeviceScratch.Download(step.Output);
        double[][] eager = step.Backward(dOut, AuxCoefficient).Tensors().Select(DeviceScratch.Download).ToArray();

        using var stream = CudaStream.Create();
        (CudaGraph graph, GpuMoeGradients gradients) = step.Capture(x, dOut, AuxCoefficient, stream);
        using (graph)
        {
            long allocations = step.Scratch.Allocations;
            for (int launch = 0; launch < 3; launch++) graph.Launch(stream);
            stream.Synchronize();
            Assert.That(step.Scratch.Allocations, Is.EqualTo(allocations), "a launch allocated device memory");
            MoeTestData.AssertExact(DeviceScratch.Download(step.Output), eagerOutput, $"{config}: output after replay");
            double[][] replayed = gradients.Tensors().Select(DeviceScratch.Download).ToArray();
            for (int i = 0; i < eager.Length; i++) MoeTestData.AssertExact(replayed[i], eager[i], $"{config}: gradient {i} after replay");
        }
    }

    [Test]
    public void A_step_without_the_aux_loss_value_gives_the_same_output_and_gradients([Values(0, 1)] int configIndex)
    {
        ReferenceMoeConfig config = Configs[configIndex];
        TrainingCase c = Draw(config);
        using var layer = new GpuMoeLayer(Context, c.Layer.Parameters, DType.BFloat16);
        using GpuMoeStep with = layer.NewStep(Tokens), without = layer.NewStep(Tokens);
        without.ComputesAuxLoss = false;
        using DeviceTensor x = DeviceTensor.Allocate(DType.BFloat16, Tokens, config.EmbedDim);
        using DeviceTensor dOut = DeviceTensor.Allocate(DType.BFloat16, Tokens, config.EmbedDim);
        DeviceScratch.Load(x, c.X);
        DeviceScratch.Load(dOut, c.OutputWeights);

        double[][] Run(GpuMoeStep step)
        {
            step.Forward(x);
            double[] output = DeviceScratch.Download(step.Output);
            return step.Backward(dOut, AuxCoefficient).Tensors().Select(DeviceScratch.Download).Prepend(output).ToArray();
        }

        double[][] expected = Run(with), actual = Run(without);
        Assert.That(with.AuxLoss, Is.GreaterThan(0), "the default step computes the loss's value");
        var e = Assert.Throws<InvalidOperationException>(() => _ = without.AuxLoss);
        Assert.That(e!.Message, Does.Contain(nameof(GpuMoeStep.ComputesAuxLoss)));
        for (int i = 0; i < expected.Length; i++) MoeTestData.AssertExact(actual[i], expected[i], $"{config}: tensor {i} (0: output)");
    }

    [Test]
    public void A_float32_step_cannot_be_captured()
    {
        TrainingCase c = Draw(Configs[0]);
        using var layer = new GpuMoeLayer(Context, c.Layer.Parameters, DType.Float32);
        using GpuMoeStep step = layer.NewStep(Tokens);
        using DeviceTensor x = DeviceTensor.Allocate(DType.Float32, Tokens, Configs[0].EmbedDim);
        using var stream = CudaStream.Create();
        Assert.Throws<InvalidOperationException>(() => step.Capture(x, x, AuxCoefficient, stream));
    }

    private static double Bound(DType dtype) => dtype == DType.BFloat16 ? 5e-2 : dtype == DType.Float16 ? 1e-2 : 5e-4;

    // The first TrainingCase draw from seed 2024 on whose top-k gap is at least RoutingGap for every token.
    private static TrainingCase Draw(ReferenceMoeConfig config)
    {
        for (int seed = 2024; seed < 2024 + 2000; seed++)
        {
            TrainingCase c = TrainingCase.Draw(config, Tokens, seed);
            if (TopKGap(c) >= RoutingGap) return c;
        }

        throw new InvalidOperationException($"No draw with a top-k gap of {RoutingGap} for {config}.");
    }

    private static double TopKGap(TrainingCase c)
    {
        ReferenceMoeConfig config = c.Layer.Config;
        if (config.TopK >= config.NumExperts) return double.PositiveInfinity;
        MoeForwardState state = c.Layer.Forward(c.X, c.Tokens);
        double gap = double.PositiveInfinity;
        for (int t = 0; t < c.Tokens; t++)
        {
            double[] sorted = state.Probabilities.AsSpan(t * config.NumExperts, config.NumExperts).ToArray().OrderDescending().ToArray();
            gap = Math.Min(gap, sorted[config.TopK - 1] - sorted[config.TopK]);
        }

        return gap;
    }

    // Relative error within the bound; a gradient that is zero in exact arithmetic (one expert) must stay within the
    // storage type's rounding of zero instead, since a relative error has no meaning there.
    private static void AssertGradient(double[] actual, double[] expected, double bound, string what)
    {
        Assert.That(actual.Any(double.IsNaN), Is.False, $"{what}: NaN (an element never written?)");
        if (expected.All(v => Math.Abs(v) < 1e-12))
        {
            Assert.That(actual.Select(Math.Abs).Max(), Is.LessThan(1e-4), $"{what}: zero gradient");
            return;
        }

        MoeTestData.AssertClose(actual, expected, bound, what);
    }
}
