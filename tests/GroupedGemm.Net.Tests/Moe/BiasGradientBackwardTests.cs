using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class BiasGradientBackwardTests
{
    /// <summary>Bound for the float32 gradient: fp32 sums of up to a thousand stored values.</summary>
    private const double Float32Sum = 1e-4;

    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Bias_gradient_with_device_counts_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(256, 2 * 36 + 1)] int cols,
        [Values(80, 1)] int experts,
        [Values(false, true)] bool accumulate)
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 1000;
        // Counts over the first 980 rows (some experts empty): the last 20 rows belong to no expert and add nothing.
        long[] counts = MoeTestData.RandomCounts(random, rows - 20, experts);
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * cols), dtype, rows, cols);
        float[] initial = MoeTestData.Uniform(random, (long)experts * cols).Select(v => (float)v).ToArray();
        using (dy)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor dBias = accumulate ? DeviceTensor.FromArray(initial, experts, cols) : MoeTestData.Poisoned(DType.Float32, experts, cols))
        {
            MoeKernels.BiasGradient(dy, c, dBias, accumulate);
            double[] expected = MoeBackwardReference.BiasGradient(dys, rows, cols, counts, 0, experts,
                accumulate ? initial.Select(v => (double)v).ToArray() : null);
            MoeTestData.AssertClose(MoeTestData.Download(dBias), expected, Float32Sum, $"{dtype} bias gradient (E {experts}, accumulate {accumulate})");
            if (!accumulate)
            {
                // Empty experts get exact zeros.
                double[] actual = MoeTestData.Download(dBias);
                for (int e = 0; e < experts; e++)
                {
                    if (counts[e] == 0) Assert.That(actual.Skip(e * cols).Take(cols), Is.All.EqualTo(0.0), $"expert {e} has no rows");
                }
            }
        }
    }

    [Test]
    public void Counts_past_the_rows_are_clamped_and_the_sum_repeats_bit_for_bit()
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 300, cols = 64, experts = 4;
        long[] counts = [100, 0, 150, 1000]; // sums past the buffer: the last expert keeps only the 50 rows there are
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * cols), DType.BFloat16, rows, cols);
        using (dy)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor first = MoeTestData.Poisoned(DType.Float32, experts, cols))
        using (DeviceTensor second = MoeTestData.Poisoned(DType.Float32, experts, cols))
        {
            MoeKernels.BiasGradient(dy, c, first);
            MoeKernels.BiasGradient(dy, c, second);
            double[] expected = MoeBackwardReference.BiasGradient(dys, rows, cols, counts, 0, experts, null);
            MoeTestData.AssertClose(MoeTestData.Download(first), expected, Float32Sum, "clamped counts");
            MoeTestData.AssertExact(MoeTestData.Download(second), MoeTestData.Download(first), "second run");
        }
    }

    [Test]
    public void Bias_gradient_padded_matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(1, 7)] int experts)
    {
        Random random = MoeTestData.NewRandom();
        const int capacity = 45, cols = 100;
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, experts * capacity * cols), dtype, experts, capacity, cols);
        using (dy)
        using (DeviceTensor dBias = MoeTestData.Poisoned(DType.Float32, experts, cols))
        {
            MoeKernels.BiasGradientPadded(dy, dBias);
            double[] expected = MoeBackwardReference.BiasGradient(dys, experts * capacity, cols, null, capacity, experts, null);
            MoeTestData.AssertClose(MoeTestData.Download(dBias), expected, Float32Sum, $"{dtype} bias gradient padded (E {experts})");
        }
    }
}
