using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class ActivationTests
{
    private static readonly Activation[] Activations = [Activation.None, Activation.Relu, Activation.Gelu, Activation.Silu];

    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Bias_activation_with_device_counts_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [ValueSource(nameof(Activations))] Activation activation,
        [Values(256, 24)] int cols,
        [Values(true, false)] bool withBias)
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 1000, experts = 80;
        // The counts cover only the first 990 rows: the last ten belong to no expert and get no bias.
        long[] counts = MoeTestData.RandomCounts(random, rows - 10, experts);
        (DeviceTensor x, double[] xs) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * cols, 3), dtype, rows, cols);
        (DeviceTensor? bias, double[]? bs) = withBias ? MoeTestData.Upload(MoeTestData.Uniform(random, (long)experts * cols), dtype, experts, cols) : (null, null);
        using (x)
        using (bias)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        {
            MoeKernels.BiasActivation(x, bias, c, activation);
            double[] expected = MoeReference.BiasActivation(xs, rows, cols, bs, counts, 0, experts, activation);
            MoeTestData.AssertClose(MoeTestData.Download(x), expected, MoeTestData.Tolerance(dtype), $"{dtype} {activation}");
        }
    }

    [Test]
    public void Bias_activation_padded_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [ValueSource(nameof(Activations))] Activation activation)
    {
        Random random = MoeTestData.NewRandom();
        const int experts = 6, capacity = 33, cols = 40;
        (DeviceTensor x, double[] xs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * cols, 3), dtype, experts, capacity, cols);
        (DeviceTensor bias, double[] bs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * cols), dtype, experts, cols);
        using (x)
        using (bias)
        {
            MoeKernels.BiasActivationPadded(x, bias, activation);
            double[] expected = MoeReference.BiasActivation(xs, experts * capacity, cols, bs, null, capacity, experts, activation);
            MoeTestData.AssertClose(MoeTestData.Download(x), expected, MoeTestData.Tolerance(dtype), $"{dtype} {activation} padded");
        }
    }

    [Test]
    public void Gated_activation_with_device_counts_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [ValueSource(nameof(Activations))] Activation activation,
        [Values(128, 20)] int hidden,
        [Values(true, false)] bool withBias)
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 700, experts = 17;
        long[] counts = MoeTestData.RandomCounts(random, rows, experts);
        (DeviceTensor gateUp, double[] gs) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * 2 * hidden, 3), dtype, rows, 2 * hidden);
        (DeviceTensor? bias, double[]? bs) = withBias ? MoeTestData.Upload(MoeTestData.Uniform(random, (long)experts * 2 * hidden), dtype, experts, 2 * hidden) : (null, null);
        using (gateUp)
        using (bias)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor output = MoeTestData.Poisoned(dtype, rows, hidden))
        {
            MoeKernels.GatedActivation(gateUp, bias, c, activation, output);
            double[] expected = MoeReference.GatedActivation(gs, rows, hidden, bs, counts, 0, experts, activation);
            MoeTestData.AssertClose(MoeTestData.Download(output), expected, MoeTestData.Tolerance(dtype), $"{dtype} {activation} gated");
        }
    }

    [Test]
    public void Gated_activation_padded_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(Activation.Silu, Activation.Gelu)] Activation activation)
    {
        Random random = MoeTestData.NewRandom();
        const int experts = 5, capacity = 21, hidden = 64;
        (DeviceTensor gateUp, double[] gs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * 2 * hidden, 3), dtype, experts, capacity, 2 * hidden);
        (DeviceTensor bias, double[] bs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * 2 * hidden), dtype, experts, 2 * hidden);
        using (gateUp)
        using (bias)
        using (DeviceTensor output = MoeTestData.Poisoned(dtype, experts, capacity, hidden))
        {
            MoeKernels.GatedActivationPadded(gateUp, bias, activation, output);
            double[] expected = MoeReference.GatedActivation(gs, experts * capacity, hidden, bs, null, capacity, experts, activation);
            MoeTestData.AssertClose(MoeTestData.Download(output), expected, MoeTestData.Tolerance(dtype), $"{dtype} {activation} gated padded");
        }
    }
}
