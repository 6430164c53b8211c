using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class TopKSoftmaxTests
{
    // E = 4000 exceeds the shared-memory row cache (3072 experts) and exercises the uncached path.
    private static readonly object[] Cases =
    [
        new object[] { DType.Float32, 37, 8, 2, false },
        new object[] { DType.BFloat16, 300, 80, 8, true },
        new object[] { DType.Float16, 129, 80, 8, false },
        new object[] { DType.Float32, 64, 1, 1, true },
        new object[] { DType.BFloat16, 33, 4000, 6, true },
        new object[] { DType.Float32, 17, 65, 65, false },
    ];

    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [TestCaseSource(nameof(Cases))]
    public void Matches_reference(DType dtype, int tokens, int experts, int topK, bool renormalize)
    {
        Random random = MoeTestData.NewRandom();
        (DeviceTensor logits, double[] stored) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * experts, 4), dtype, tokens, experts);
        Check(logits, stored, dtype, tokens, experts, topK, renormalize);
    }

    [Test]
    public void Ties_go_to_the_lower_expert_index([Values(DType.Float32, DType.BFloat16)] DType dtype)
    {
        // Logits from only three distinct values: most picks are ties, broken by index.
        Random random = MoeTestData.NewRandom();
        const int tokens = 50, experts = 40, topK = 8;
        double[] values = Enumerable.Range(0, tokens * experts).Select(_ => (double)random.Next(3)).ToArray();
        (DeviceTensor logits, double[] stored) = MoeTestData.Upload(values, dtype, tokens, experts);
        Check(logits, stored, dtype, tokens, experts, topK, renormalize: true);
    }

    private static void Check(DeviceTensor logits, double[] stored, DType dtype, int tokens, int experts, int topK, bool renormalize)
    {
        using (logits)
        using (DeviceTensor weights = MoeTestData.Poisoned(DType.Float32, tokens, topK))
        using (DeviceTensor chosen = MoeTestData.Poisoned(DType.Int32, tokens, topK))
        {
            MoeKernels.TopKSoftmax(logits, weights, chosen, renormalize);
            (double[] refWeights, int[] refExperts) = MoeReference.TopKSoftmax(stored, tokens, experts, topK, renormalize);

            Assert.That(chosen.ToArray<int>(), Is.EqualTo(refExperts), $"{dtype}: chosen experts");
            double[] actual = weights.ToArray<float>().Select(v => (double)v).ToArray();
            MoeTestData.AssertClose(actual, refWeights, 1e-5, $"{dtype}: weights");
        }
    }
}
