using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class LoadBalancingLossBackwardTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Loss_and_gradient_match_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(80, 5, 256, 384)] int experts, // up to 256 a thread per token in the loss's kernel, above a warp
        [Values(false, true)] bool accumulate)
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 515, topK = 2;
        // Large enough that the gradient (coefficient · E / tokens · p · (f − s)) stays well inside float16's normal range.
        const float coefficient = 100f;
        (DeviceTensor logits, double[] ls) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * experts, 3), dtype, tokens, experts);
        (_, int[] chosen) = MoeReference.TopKSoftmax(ls, tokens, experts, topK, renormalize: true);
        long[] counts = MoeReference.SortByExpert(chosen, experts).Counts;
        (double expectedLoss, double[] expected) = MoeBackwardReference.LoadBalancingLoss(ls, counts, tokens, experts, topK, coefficient);
        // What is accumulated onto is of the gradient's own size, so that an error in the gradient still shows.
        double scale = expected.Max(Math.Abs);
        (DeviceTensor? dLogits, double[]? initial) = accumulate
            ? MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * experts, scale), dtype, tokens, experts)
            : (MoeTestData.Poisoned(dtype, tokens, experts), null);
        using (logits)
        using (dLogits)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor loss = MoeTestData.Poisoned(DType.Float32, 1))
        {
            MoeKernels.LoadBalancingLoss(logits, c, topK, coefficient, loss, dLogits, accumulate);
            if (initial is not null) expected = expected.Zip(initial, (g, i) => g + i).ToArray();
            double actualLoss = MoeTestData.Download(loss)[0];
            Assert.That(actualLoss, Is.EqualTo(expectedLoss).Within(1e-5 * Math.Abs(expectedLoss)), $"{dtype} loss");
            MoeTestData.AssertClose(MoeTestData.Download(dLogits!), expected, 2 * MoeTestData.Tolerance(dtype),
                $"{dtype} load-balancing gradient (E {experts}, accumulate {accumulate})");
        }
    }

    [Test]
    public void One_expert_has_a_constant_loss_and_no_gradient()
    {
        const int tokens = 64;
        using DeviceTensor logits = MoeTestData.Upload(MoeTestData.Uniform(new Random(1), tokens), DType.BFloat16, tokens, 1).Tensor;
        using DeviceTensor c = DeviceTensor.FromArray(new long[] { tokens }, 1);
        using DeviceTensor loss = MoeTestData.Poisoned(DType.Float32, 1);
        using DeviceTensor dLogits = MoeTestData.Poisoned(DType.BFloat16, tokens, 1);
        MoeKernels.LoadBalancingLoss(logits, c, 1, 0.5f, loss, dLogits);
        // f = 1, P = 1: loss = coefficient · 1 · 1; p = 1 everywhere, so p · (f − s) = 0.
        Assert.That(MoeTestData.Download(loss)[0], Is.EqualTo(0.5).Within(1e-6));
        Assert.That(MoeTestData.Download(dLogits), Is.All.EqualTo(0.0));
    }

    [Test]
    public void Loss_only_and_gradient_only_write_only_their_output()
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 100, experts = 16, topK = 4;
        (DeviceTensor logits, double[] ls) = MoeTestData.Upload(MoeTestData.Uniform(random, tokens * experts), DType.Float32, tokens, experts);
        long[] counts = MoeReference.SortByExpert(MoeReference.TopKSoftmax(ls, tokens, experts, topK, false).Experts, experts).Counts;
        using (logits)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor loss = MoeTestData.Poisoned(DType.Float32, 1))
        using (DeviceTensor dLogits = MoeTestData.Poisoned(DType.Float32, tokens, experts))
        {
            (double expectedLoss, double[] expected) = MoeBackwardReference.LoadBalancingLoss(ls, counts, tokens, experts, topK, 1);
            MoeKernels.LoadBalancingLoss(logits, c, topK, 1, loss, null);
            Assert.That(MoeTestData.Download(loss)[0], Is.EqualTo(expectedLoss).Within(1e-5 * expectedLoss));
            Assert.That(MoeTestData.Download(dLogits).All(double.IsNaN), "gradient written though not asked for");
            loss.Poison();
            MoeKernels.LoadBalancingLoss(logits, c, topK, 1, null, dLogits);
            Assert.That(double.IsNaN(MoeTestData.Download(loss)[0]), "loss written though not asked for");
            MoeTestData.AssertClose(MoeTestData.Download(dLogits), expected, 1e-5, "gradient only");
        }
    }
}
