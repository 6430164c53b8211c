using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Central finite differences of the forward references check the float64 backward references the GPU tests trust
/// (CPU only): the router's top-k softmax backward, the load-balancing loss gradient and the combine backward.
/// </summary>
[TestFixture]
internal sealed class MoeBackwardReferenceTests
{
    private const double Step = 1e-6;

    [Test]
    public void TopK_softmax_backward_reference_matches_finite_differences([Values(true, false)] bool renormalize)
    {
        var random = new Random(24);
        const int tokens = 5, experts = 9, topK = 3;
        double[] logits = MoeTestData.Uniform(random, tokens * experts, 2);
        double[] dw = MoeTestData.Uniform(random, tokens * topK);
        (double[] w, int[] chosen) = MoeReference.TopKSoftmax(logits, tokens, experts, topK, renormalize);
        double[] analytic = MoeBackwardReference.TopKSoftmaxBackward(logits, chosen, w, dw, tokens, experts, topK, renormalize);
        double Loss(double[] l)
        {
            (double[] weights, int[] ids) = MoeReference.TopKSoftmax(l, tokens, experts, topK, renormalize);
            Assert.That(ids, Is.EqualTo(chosen), "the step changed the selection");
            return weights.Zip(dw, (a, b) => a * b).Sum();
        }

        AssertGradient(logits, analytic, Loss);
    }

    [Test]
    public void Load_balancing_gradient_reference_matches_finite_differences()
    {
        var random = new Random(25);
        const int tokens = 6, experts = 5, topK = 2;
        double[] logits = MoeTestData.Uniform(random, tokens * experts, 2);
        long[] counts = MoeReference.SortByExpert(MoeReference.TopKSoftmax(logits, tokens, experts, topK, false).Experts, experts).Counts;
        double[] analytic = MoeBackwardReference.LoadBalancingLoss(logits, counts, tokens, experts, topK, 0.3).DLogits;
        AssertGradient(logits, analytic, l => MoeBackwardReference.LoadBalancingLoss(l, counts, tokens, experts, topK, 0.3).Loss);
    }

    [Test]
    public void Combine_backward_reference_matches_finite_differences()
    {
        var random = new Random(26);
        const int tokens = 4, topK = 2, cols = 3;
        int slots = tokens * topK;
        int[] slotRows = [3, 0, 7, -1, 1, 5, 2, 6]; // row 4 unused, slot 3 dropped
        double[] expertOut = MoeTestData.Uniform(random, slots * cols);
        double[] weights = MoeTestData.Uniform(random, slots);
        double[] dy = MoeTestData.Uniform(random, tokens * cols);
        (double[] dExpert, double[] dWeights) = MoeBackwardReference.CombineBackward(dy, expertOut, slotRows, weights, tokens, topK, cols, slots);
        double Loss(double[] e, double[] w) => MoeReference.Combine(e, slotRows, w, null, tokens, topK, cols).Zip(dy, (a, b) => a * b).Sum();
        // Rows no slot maps to have no gradient: the reference marks them NaN (the kernel leaves them untouched).
        double[] dExpertZeroed = dExpert.Select(v => double.IsNaN(v) ? 0 : v).ToArray();
        AssertGradient(expertOut, dExpertZeroed, e => Loss(e, weights));
        AssertGradient(weights, dWeights, w => Loss(expertOut, w));
    }

    private static void AssertGradient(double[] at, double[] analytic, Func<double[], double> loss)
    {
        for (int i = 0; i < at.Length; i++)
        {
            double[] plus = (double[])at.Clone(), minus = (double[])at.Clone();
            plus[i] += Step;
            minus[i] -= Step;
            double numeric = (loss(plus) - loss(minus)) / (2 * Step);
            Assert.That(analytic[i], Is.EqualTo(numeric).Within(1e-7 + 1e-6 * Math.Abs(numeric)), $"element {i}");
        }
    }
}
