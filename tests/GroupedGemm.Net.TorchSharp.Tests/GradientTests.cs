using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>
/// gmm's custom backward against torch's own autograd through per-expert matmuls, in float64, and a finite-difference
/// check of one element; then that backward computes only the gradients that are needed.
/// </summary>
public sealed class GradientTests : TorchFixture
{
    [TestCaseSource(typeof(GmmForms), nameof(GmmForms.All))]
    public void Gradients_match_per_expert_torch_autograd(bool transA, bool transB)
    {
        using Tensor a = TorchCases.Random(11, TorchCases.M, TorchCases.K).requires_grad_();
        using Tensor b = TorchCases.Random(12, TorchCases.BShape(transA, transB)).requires_grad_();
        using Tensor refA = a.detach().clone().requires_grad_();
        using Tensor refB = b.detach().clone().requires_grad_();
        using Tensor counts = TorchCases.CountsTensor();
        // A loss with a different weight per output element, so every element of dY matters.
        long[] outShape = transA ? [TorchCases.E, TorchCases.K, TorchCases.N] : [TorchCases.M, TorchCases.N];
        using Tensor weights = TorchCases.Random(13, outShape);

        using Tensor y = GroupedGemmTorch.gmm(a, b, counts, transA, transB);
        using Tensor loss = (y * weights).sum();
        loss.backward();
        using Tensor refY = TorchCases.PerExpertReference(refA, refB, TorchCases.Counts, transA, transB);
        using Tensor refLoss = (refY * weights).sum();
        refLoss.backward();

        Assert.That(a.grad, Is.Not.Null);
        Assert.That(b.grad, Is.Not.Null);
        Assert.That(CpuReference.RelativeError(TorchCases.Values(a.grad!), TorchCases.Values(refA.grad!)), Is.LessThan(1e-14));
        Assert.That(CpuReference.RelativeError(TorchCases.Values(b.grad!), TorchCases.Values(refB.grad!)), Is.LessThan(1e-14));
    }

    [TestCaseSource(typeof(GmmForms), nameof(GmmForms.All))]
    public void Gradient_of_one_element_matches_finite_differences(bool transA, bool transB)
    {
        using Tensor a = TorchCases.Random(14, TorchCases.M, TorchCases.K).requires_grad_();
        using Tensor b = TorchCases.Random(15, TorchCases.BShape(transA, transB)).requires_grad_();
        using Tensor counts = TorchCases.CountsTensor();
        long[] outShape = transA ? [TorchCases.E, TorchCases.K, TorchCases.N] : [TorchCases.M, TorchCases.N];
        using Tensor weights = TorchCases.Random(16, outShape);
        using (Tensor loss = (GroupedGemmTorch.gmm(a, b, counts, transA, transB) * weights).sum())
            loss.backward();

        // The loss is bilinear, so a central difference is exact up to rounding.
        const double h = 1e-3;
        double Loss(Tensor x, Tensor y)
        {
            using var noGrad = no_grad();
            using Tensor l = (GroupedGemmTorch.gmm(x, y, counts, transA, transB) * weights).sum();
            return l.item<double>();
        }

        using (no_grad())
        {
            double numericA = FiniteDifference(a, [0, 1], h, t => Loss(t, b.detach()));
            double numericB = FiniteDifference(b, transA ? [4, 2] : [2, 1, 3], h, t => Loss(a.detach(), t));
            Assert.That(a.grad![0, 1].item<double>(), Is.EqualTo(numericA).Within(1e-9));
            Assert.That(transA ? b.grad![4, 2].item<double>() : b.grad![2, 1, 3].item<double>(), Is.EqualTo(numericB).Within(1e-9));
        }
    }

    [TestCase(true, false)]
    [TestCase(false, true)]
    public void Backward_computes_only_the_gradients_needed(bool aNeedsGrad, bool bNeedsGrad)
    {
        using Tensor a = TorchCases.Random(17, TorchCases.M, TorchCases.K).requires_grad_(aNeedsGrad);
        using Tensor b = TorchCases.Random(18, TorchCases.E, TorchCases.K, TorchCases.N).requires_grad_(bNeedsGrad);
        using Tensor counts = TorchCases.CountsTensor();
        using Tensor loss = GroupedGemmTorch.gmm(a, b, counts).sum();

        int before = GmmKernels.CallsOnThisThread;
        loss.backward();
        int products = GmmKernels.CallsOnThisThread - before;

        // TorchSharp's CPU autograd engine runs backward on the calling thread; one product per needed gradient.
        Assert.That(products, Is.EqualTo(1));
        Assert.That(a.grad is not null, Is.EqualTo(aNeedsGrad));
        Assert.That(b.grad is not null, Is.EqualTo(bNeedsGrad));
    }

    [Test]
    public void Gradients_flow_through_a_chain_of_two_gmms()
    {
        // An MoE-like chain: h = gmm(x, w1), y = gmm(h, w2, transB); gradients must reach x, w1 and w2.
        using Tensor x = TorchCases.Random(19, TorchCases.M, TorchCases.K).requires_grad_();
        using Tensor w1 = TorchCases.Random(20, TorchCases.E, TorchCases.K, TorchCases.N).requires_grad_();
        using Tensor w2 = TorchCases.Random(21, TorchCases.E, TorchCases.K, TorchCases.N).requires_grad_();
        using Tensor counts = TorchCases.CountsTensor();
        using (Tensor loss = GroupedGemmTorch.gmm(GroupedGemmTorch.gmm(x, w1, counts), w2, counts, transB: true).square().sum())
            loss.backward();

        using Tensor rx = x.detach().clone().requires_grad_();
        using Tensor rw1 = w1.detach().clone().requires_grad_();
        using Tensor rw2 = w2.detach().clone().requires_grad_();
        using (Tensor rh = TorchCases.PerExpertReference(rx, rw1, TorchCases.Counts, false, false))
        using (Tensor rloss = TorchCases.PerExpertReference(rh, rw2, TorchCases.Counts, false, true).square().sum())
            rloss.backward();

        Assert.That(CpuReference.RelativeError(TorchCases.Values(x.grad!), TorchCases.Values(rx.grad!)), Is.LessThan(1e-13));
        Assert.That(CpuReference.RelativeError(TorchCases.Values(w1.grad!), TorchCases.Values(rw1.grad!)), Is.LessThan(1e-13));
        Assert.That(CpuReference.RelativeError(TorchCases.Values(w2.grad!), TorchCases.Values(rw2.grad!)), Is.LessThan(1e-13));
    }

    private static double FiniteDifference(Tensor t, long[] index, double h, Func<Tensor, double> loss)
    {
        using Tensor plus = t.detach().clone();
        using Tensor minus = t.detach().clone();
        using Tensor flatPlus = plus.view(-1);
        using Tensor flatMinus = minus.view(-1);
        long flat = 0;
        for (int d = 0; d < index.Length; d++) flat = flat * t.shape[d] + index[d];
        flatPlus[flat] = flatPlus[flat] + h;
        flatMinus[flat] = flatMinus[flat] - h;
        return (loss(plus) - loss(minus)) / (2 * h);
    }
}
