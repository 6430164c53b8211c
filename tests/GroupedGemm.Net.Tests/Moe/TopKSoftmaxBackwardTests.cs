using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class TopKSoftmaxBackwardTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(80, 7, 1)] int experts,
        [Values(1, 2, 8)] int topK,
        [Values(true, false)] bool renormalize)
    {
        if (topK > experts) Assert.Ignore("top-k above the expert count");
        Random random = MoeTestData.NewRandom();
        const int tokens = 333;
        (DeviceTensor logits, double[] ls) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * experts, 4), dtype, tokens, experts);
        (double[] w, int[] chosen) = MoeReference.TopKSoftmax(ls, tokens, experts, topK, renormalize);
        float[] w32 = w.Select(v => (float)v).ToArray();
        float[] dw32 = MoeTestData.Uniform(random, (long)tokens * topK).Select(v => (float)v).ToArray();
        using (logits)
        using (DeviceTensor weights = DeviceTensor.FromArray(w32, tokens, topK))
        using (DeviceTensor ids = DeviceTensor.FromArray(chosen, tokens, topK))
        using (DeviceTensor dw = DeviceTensor.FromArray(dw32, tokens, topK))
        using (DeviceTensor dLogits = MoeTestData.Poisoned(dtype, tokens, experts))
        {
            // With renormalisation the kernel must not need the logits.
            MoeKernels.TopKSoftmaxBackward(renormalize ? null : logits, weights, ids, dw, renormalize, dLogits);
            double[] expected = MoeBackwardReference.TopKSoftmaxBackward(ls, chosen, w32.Select(v => (double)v).ToArray(),
                dw32.Select(v => (double)v).ToArray(), tokens, experts, topK, renormalize);
            if (experts == 1 || (renormalize && topK == 1))
            {
                // One kept weight that is 1 (or the softmax of one logit): its gradient is 0 everywhere.
                Assert.That(MoeTestData.Download(dLogits).Select(Math.Abs).Max(), Is.LessThan(1e-6), "gradient of a constant weight");
                return;
            }

            MoeTestData.AssertClose(MoeTestData.Download(dLogits), expected, 2 * MoeTestData.Tolerance(dtype),
                $"{dtype} top-{topK} of {experts} backward (renormalize {renormalize})");
        }
    }

    [Test]
    public void Slots_with_an_expert_out_of_range_are_ignored([Values(true, false)] bool renormalize)
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 40, experts = 33, topK = 4;
        (DeviceTensor logits, double[] ls) = MoeTestData.Upload(MoeTestData.Uniform(random, tokens * experts, 2), DType.Float32, tokens, experts);
        (double[] w, int[] original) = MoeReference.TopKSoftmax(ls, tokens, experts, topK, renormalize);
        int[] chosen = (int[])original.Clone();
        var dropped = new List<int>();
        for (int t = 0; t < tokens; t += 3)
        {
            chosen[t * topK + 1] = t % 2 == 0 ? -1 : experts; // dropped after routing: the kernel no longer knows its expert
            dropped.Add(t * topK + 1);
        }

        float[] w32 = w.Select(v => (float)v).ToArray();
        float[] dw32 = MoeTestData.Uniform(random, tokens * topK).Select(v => (float)v).ToArray();
        // What the kernel computes: the gradient in which a dropped slot's weight feeds nothing (its dw is 0) and, with
        // renormalisation, its expert's logit (unknown to the kernel) gets nothing. Without renormalisation every logit
        // still gets p_i · (g_i − c), the dropped expert's included.
        double[] dwRef = dw32.Select(v => (double)v).ToArray();
        foreach (int slot in dropped) dwRef[slot] = 0;
        double[] expected = MoeBackwardReference.TopKSoftmaxBackward(ls, original, w32.Select(v => (double)v).ToArray(), dwRef,
            tokens, experts, topK, renormalize);
        if (renormalize)
        {
            foreach (int slot in dropped) expected[slot / topK * experts + original[slot]] = 0;
        }

        using (logits)
        using (DeviceTensor weights = DeviceTensor.FromArray(w32, tokens, topK))
        using (DeviceTensor ids = DeviceTensor.FromArray(chosen, tokens, topK))
        using (DeviceTensor dw = DeviceTensor.FromArray(dw32, tokens, topK))
        using (DeviceTensor dLogits = MoeTestData.Poisoned(DType.Float32, tokens, experts))
        {
            MoeKernels.TopKSoftmaxBackward(logits, weights, ids, dw, renormalize, dLogits);
            MoeTestData.AssertClose(MoeTestData.Download(dLogits), expected, 1e-5, $"dropped slots (renormalize {renormalize})");
        }
    }
}
