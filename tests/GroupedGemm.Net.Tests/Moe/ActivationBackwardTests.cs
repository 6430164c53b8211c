using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class ActivationBackwardTests
{
    private static readonly Activation[] Activations = [Activation.None, Activation.Relu, Activation.Gelu, Activation.Silu];

    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Bias_activation_backward_with_device_counts_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [ValueSource(nameof(Activations))] Activation activation,
        [Values(256, 24)] int cols,
        [Values(true, false)] bool withBias,
        [Values(80, 1)] int experts,
        [Values(false, true)] bool inPlace)
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 1000;
        // The counts cover only the first 990 rows (some experts empty): the last ten belong to no expert, no bias.
        long[] counts = MoeTestData.RandomCounts(random, rows - 10, experts);
        (DeviceTensor x, double[] xs) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * cols, 3), dtype, rows, cols);
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * cols), dtype, rows, cols);
        (DeviceTensor? bias, double[]? bs) = withBias ? MoeTestData.Upload(MoeTestData.Uniform(random, (long)experts * cols), dtype, experts, cols) : (null, null);
        using (x)
        using (dy)
        using (bias)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor separate = MoeTestData.Poisoned(dtype, rows, cols))
        {
            DeviceTensor dx = inPlace ? dy : separate;
            MoeKernels.BiasActivationBackward(x, bias, c, activation, dy, dx);
            double[] expected = MoeBackwardReference.ActivationBackward(xs, rows, cols, bs, counts, 0, experts, activation, dys);
            MoeTestData.AssertClose(MoeTestData.Download(dx), expected, MoeTestData.Tolerance(dtype),
                $"{dtype} {activation} backward (E {experts}, in place {inPlace})");
        }
    }

    [Test]
    public void Bias_activation_backward_padded_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [ValueSource(nameof(Activations))] Activation activation)
    {
        Random random = MoeTestData.NewRandom();
        const int experts = 6, capacity = 33, cols = 40;
        (DeviceTensor x, double[] xs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * cols, 3), dtype, experts, capacity, cols);
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * cols), dtype, experts, capacity, cols);
        (DeviceTensor bias, double[] bs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * cols), dtype, experts, cols);
        using (x)
        using (dy)
        using (bias)
        using (DeviceTensor dx = MoeTestData.Poisoned(dtype, experts, capacity, cols))
        {
            MoeKernels.BiasActivationBackwardPadded(x, bias, activation, dy, dx);
            double[] expected = MoeBackwardReference.ActivationBackward(xs, experts * capacity, cols, bs, null, capacity, experts, activation, dys);
            MoeTestData.AssertClose(MoeTestData.Download(dx), expected, MoeTestData.Tolerance(dtype), $"{dtype} {activation} backward padded");
        }
    }

    [Test]
    public void Gated_activation_backward_with_device_counts_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [ValueSource(nameof(Activations))] Activation activation,
        [Values(128, 20)] int hidden,
        [Values(true, false)] bool withBias,
        [Values(false, true)] bool inPlace)
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 700, experts = 17;
        long[] counts = MoeTestData.RandomCounts(random, rows - 7, experts);
        (DeviceTensor gateUp, double[] gs) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * 2 * hidden, 3), dtype, rows, 2 * hidden);
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * hidden), dtype, rows, hidden);
        (DeviceTensor? bias, double[]? bs) = withBias ? MoeTestData.Upload(MoeTestData.Uniform(random, (long)experts * 2 * hidden), dtype, experts, 2 * hidden) : (null, null);
        using (gateUp)
        using (dy)
        using (bias)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor separate = MoeTestData.Poisoned(dtype, rows, 2 * hidden))
        {
            DeviceTensor d = inPlace ? gateUp : separate;
            MoeKernels.GatedActivationBackward(gateUp, bias, c, activation, dy, d);
            double[] expected = MoeBackwardReference.GatedActivationBackward(gs, rows, hidden, bs, counts, 0, experts, activation, dys);
            MoeTestData.AssertClose(MoeTestData.Download(d), expected, MoeTestData.Tolerance(dtype),
                $"{dtype} {activation} gated backward (in place {inPlace})");
        }
    }

    [Test]
    public void Gated_activation_backward_padded_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(Activation.Silu, Activation.Gelu)] Activation activation)
    {
        Random random = MoeTestData.NewRandom();
        const int experts = 5, capacity = 21, hidden = 64;
        (DeviceTensor gateUp, double[] gs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * 2 * hidden, 3), dtype, experts, capacity, 2 * hidden);
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * hidden), dtype, experts, capacity, hidden);
        (DeviceTensor bias, double[] bs) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * 2 * hidden), dtype, experts, 2 * hidden);
        using (gateUp)
        using (dy)
        using (bias)
        using (DeviceTensor d = MoeTestData.Poisoned(dtype, experts, capacity, 2 * hidden))
        {
            MoeKernels.GatedActivationBackwardPadded(gateUp, bias, activation, dy, d);
            double[] expected = MoeBackwardReference.GatedActivationBackward(gs, experts * capacity, hidden, bs, null, capacity, experts, activation, dys);
            MoeTestData.AssertClose(MoeTestData.Download(d), expected, MoeTestData.Tolerance(dtype), $"{dtype} {activation} gated backward padded");
        }
    }
}
