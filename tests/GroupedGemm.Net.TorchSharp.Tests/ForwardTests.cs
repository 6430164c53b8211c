using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>gmm's CPU path against GroupedGemm.Net's float64 reference, in all three forms.</summary>
public sealed class ForwardTests : TorchFixture
{
    [TestCaseSource(typeof(GmmForms), nameof(GmmForms.All))]
    public void Float64_matches_CpuReference(bool transA, bool transB)
    {
        using Tensor a = TorchCases.Random(1, TorchCases.M, TorchCases.K);
        using Tensor b = TorchCases.Random(2, TorchCases.BShape(transA, transB));
        using Tensor counts = TorchCases.CountsTensor();

        using Tensor c = GroupedGemmTorch.gmm(a, b, counts, transA, transB);

        long[] expectedShape = transA ? [TorchCases.E, TorchCases.K, TorchCases.N] : [TorchCases.M, TorchCases.N];
        Assert.That(c.shape, Is.EqualTo(expectedShape));
        Assert.That(c.dtype, Is.EqualTo(ScalarType.Float64));
        double[] reference = CpuReference.Gmm(TorchCases.Values(a), TorchCases.Values(b), TorchCases.Counts,
            TorchCases.K, TorchCases.N, transA, transB);
        Assert.That(CpuReference.RelativeError(TorchCases.Values(c), reference), Is.LessThan(1e-14));
    }

    [TestCaseSource(typeof(GmmForms), nameof(GmmForms.All))]
    public void Float32_matches_CpuReference(bool transA, bool transB)
    {
        using Tensor a = TorchCases.Random(3, TorchCases.M, TorchCases.K).to_type(ScalarType.Float32);
        using Tensor b = TorchCases.Random(4, TorchCases.BShape(transA, transB)).to_type(ScalarType.Float32);
        using Tensor counts = TorchCases.CountsTensor();

        using Tensor c = GroupedGemmTorch.gmm(a, b, counts, transA, transB);

        Assert.That(c.dtype, Is.EqualTo(ScalarType.Float32));
        using Tensor a64 = a.to_type(ScalarType.Float64);
        using Tensor b64 = b.to_type(ScalarType.Float64);
        using Tensor c64 = c.to_type(ScalarType.Float64);
        double[] reference = CpuReference.Gmm(TorchCases.Values(a64), TorchCases.Values(b64), TorchCases.Counts,
            TorchCases.K, TorchCases.N, transA, transB);
        Assert.That(CpuReference.RelativeError(TorchCases.Values(c64), reference), Is.LessThan(1e-6));
    }

    [Test]
    public void WeightGradient_form_gives_zeros_to_an_expert_without_rows()
    {
        using Tensor a = TorchCases.Random(5, TorchCases.M, TorchCases.K);
        using Tensor b = TorchCases.Random(6, TorchCases.M, TorchCases.N);
        using Tensor counts = TorchCases.CountsTensor();

        using Tensor c = GroupedGemmTorch.gmm(a, b, counts, transA: true);

        Assert.That(c[1].abs().max().item<double>(), Is.Zero); // Counts[1] == 0
    }

    [Test]
    public void Without_grad_the_result_is_not_in_a_graph()
    {
        using Tensor a = TorchCases.Random(7, TorchCases.M, TorchCases.K);
        using Tensor b = TorchCases.Random(8, TorchCases.E, TorchCases.K, TorchCases.N);
        using Tensor counts = TorchCases.CountsTensor();

        using Tensor c = GroupedGemmTorch.gmm(a, b, counts);

        Assert.That(c.requires_grad, Is.False);
    }

    [Test]
    public void Narrowed_operands_are_read_at_their_storage_offset()
    {
        // Rows 2.. of a bigger tensor: contiguous, with a non-zero storage offset. The result must use those rows.
        using Tensor big = TorchCases.Random(9, TorchCases.M + 2, TorchCases.K);
        using Tensor a = big.narrow(0, 2, TorchCases.M);
        using Tensor b = TorchCases.Random(10, TorchCases.E, TorchCases.K, TorchCases.N);
        using Tensor counts = TorchCases.CountsTensor();

        using Tensor c = GroupedGemmTorch.gmm(a, b, counts);

        double[] reference = CpuReference.Gmm(TorchCases.Values(a), TorchCases.Values(b), TorchCases.Counts,
            TorchCases.K, TorchCases.N);
        Assert.That(CpuReference.RelativeError(TorchCases.Values(c), reference), Is.LessThan(1e-14));
    }
}
