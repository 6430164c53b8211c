using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>
/// The CUDA path, on a GPU host only (skipped elsewhere): TorchSharp against a CUDA libtorch, e.g. PyTorch's
/// torch/lib on LD_LIBRARY_PATH, and GroupedGemm.Net's native library built for the card.
/// </summary>
[Category("Gpu")]
public sealed class CudaTests : TorchFixture
{
    [SetUp]
    public void RequireCuda()
    {
        if (!TorchGuard.CudaAvailable)
        {
            // The GPU host sets GG_REQUIRE_TORCH_CUDA=1: there a libtorch without CUDA is a failure, not a skip.
            const string Reason = "torch.cuda.is_available() is false.";
            if (Environment.GetEnvironmentVariable("GG_REQUIRE_TORCH_CUDA") == "1") Assert.Fail($"CUDA test: {Reason}");
            Assert.Ignore($"CUDA test skipped: {Reason}");
        }

        if (CudaDevice.UnavailableReason is string reason) Assert.Ignore($"CUDA test skipped: {reason}");
    }

    [TestCaseSource(typeof(GmmForms), nameof(GmmForms.All))]
    public void Bf16_forward_matches_CpuReference_with_host_and_device_counts(bool transA, bool transB)
    {
        Device cuda = CUDA;
        using Tensor a = TorchCases.Random(31, TorchCases.M, TorchCases.K).to(ScalarType.BFloat16, cuda);
        using Tensor b = TorchCases.Random(32, TorchCases.BShape(transA, transB)).to(ScalarType.BFloat16, cuda);
        using Tensor hostCounts = TorchCases.CountsTensor();
        using Tensor deviceCounts = hostCounts.to(cuda);

        using Tensor c1 = GroupedGemmTorch.gmm(a, b, hostCounts, transA, transB);
        using Tensor c2 = GroupedGemmTorch.gmm(a, b, deviceCounts, transA, transB);

        double[] reference = CpuReference.Gmm(
            TorchCases.Values(a.cpu().to_type(ScalarType.Float64)), TorchCases.Values(b.cpu().to_type(ScalarType.Float64)),
            TorchCases.Counts, TorchCases.K, TorchCases.N, transA, transB);
        Assert.That(c1.device_type, Is.EqualTo(DeviceType.CUDA));
        Assert.That(CpuReference.RelativeError(TorchCases.Values(c1.cpu().to_type(ScalarType.Float64)), reference), Is.LessThan(1e-2));
        Assert.That(CpuReference.RelativeError(TorchCases.Values(c2.cpu().to_type(ScalarType.Float64)), reference), Is.LessThan(1e-2));
    }

    [TestCaseSource(typeof(GmmForms), nameof(GmmForms.All))]
    public void Float32_gradients_match_per_expert_torch_autograd(bool transA, bool transB)
    {
        Device cuda = CUDA;
        using Tensor a = TorchCases.Random(33, TorchCases.M, TorchCases.K).to(ScalarType.Float32, cuda).requires_grad_();
        using Tensor b = TorchCases.Random(34, TorchCases.BShape(transA, transB)).to(ScalarType.Float32, cuda).requires_grad_();
        using Tensor refA = a.detach().clone().requires_grad_();
        using Tensor refB = b.detach().clone().requires_grad_();
        using Tensor counts = TorchCases.CountsTensor();

        using (Tensor loss = GroupedGemmTorch.gmm(a, b, counts, transA, transB).square().sum()) loss.backward();
        using (Tensor loss = TorchCases.PerExpertReference(refA, refB, TorchCases.Counts, transA, transB).square().sum()) loss.backward();

        Assert.That(CpuReference.RelativeError(Host(a.grad!), Host(refA.grad!)), Is.LessThan(1e-4));
        Assert.That(CpuReference.RelativeError(Host(b.grad!), Host(refB.grad!)), Is.LessThan(1e-4));
    }

    [Test]
    public void Float64_on_CUDA_is_rejected()
    {
        using Tensor a = zeros(new long[] { TorchCases.M, TorchCases.K }, ScalarType.Float64, CUDA);
        using Tensor b = zeros(new long[] { TorchCases.E, TorchCases.K, TorchCases.N }, ScalarType.Float64, CUDA);
        using Tensor counts = TorchCases.CountsTensor();
        Assert.That(() => GroupedGemmTorch.gmm(a, b, counts),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("a").And.Message.Contains("Float64"));
    }

    // bf16: device batch sizes (CUTLASS); float32: host batch sizes (cuBLAS), copied by the layer.
    [TestCase(false, ScalarType.BFloat16, 2e-2)]
    [TestCase(true, ScalarType.BFloat16, 2e-2)]
    [TestCase(false, ScalarType.Float32, 2e-3)]
    [TestCase(true, ScalarType.Float32, 2e-3)]
    public void Layer_with_grouped_gemm_matches_the_per_expert_loop(bool gated, ScalarType dtype, double bound)
    {
        torch.manual_seed(5);
        using Moe.MoeFeedForwardBase layer = gated
            ? new Moe.VectorizedGatedMoeFeedForward(64, 128, 8, 2, 1, useGroupedGemm: true, dtype: dtype, device: CUDA)
            : new Moe.VectorizedMoeFeedForward(64, 128, 8, 2, 1, useGroupedGemm: true, dtype: dtype, device: CUDA);
        Assert.That(layer.Path, Is.EqualTo(Moe.MoeExpertPath.GroupedGemm), "grouped GEMM is available for this dtype");
        using Tensor x = randn(new long[] { 256, 64 }, dtype, CUDA);
        using Tensor dy = randn(new long[] { 256, 64 }, dtype, CUDA);

        (double[] y, double[] dw1) = Run(Moe.MoeExpertPath.GroupedGemm);
        (double[] refY, double[] refDw1) = Run(Moe.MoeExpertPath.PerExpertLoop);

        Assert.That(CpuReference.RelativeError(y, refY), Is.LessThan(bound));
        Assert.That(CpuReference.RelativeError(dw1, refDw1), Is.LessThan(bound));

        (double[], double[]) Run(Moe.MoeExpertPath path)
        {
            layer.Path = path;
            layer.zero_grad();
            using Tensor output = layer.forward(x);
            output.backward([dy]);
            Tensor w1 = layer.named_parameters().First(p => p.name == "w1").parameter;
            return (Host(output), Host(w1.grad!));
        }
    }

    // The H100 parity printout showed bf16 dw1, dw2 and drouter matching the per-expert loop exactly on both the
    // grouped GEMM and the padded bmm path, which it could not tell apart from all zero on both sides: here every
    // gradient of every path must be finite and nonzero (each expert's slice too). The seed's shape is the printout's.
    [TestCase(false, ScalarType.BFloat16, 256, 64, 128, 8, 2)]
    [TestCase(true, ScalarType.BFloat16, 256, 64, 128, 8, 2)]
    [TestCase(false, ScalarType.Float32, 256, 64, 128, 8, 2)]
    [TestCase(true, ScalarType.Float32, 256, 64, 128, 8, 2)]
    [TestCase(false, ScalarType.BFloat16, 2048, 512, 2048, 80, 8)]
    [TestCase(true, ScalarType.BFloat16, 2048, 512, 2048, 80, 8)]
    public void Layer_gradients_are_nonzero_on_every_path(bool gated, ScalarType dtype, long tokens, long embed, long hidden,
        long experts, int topK)
    {
        torch.manual_seed(9);
        using Moe.MoeFeedForwardBase layer = gated
            ? new Moe.VectorizedGatedMoeFeedForward(embed, hidden, experts, topK, 1, useGroupedGemm: true, dtype: dtype, device: CUDA)
            : new Moe.VectorizedMoeFeedForward(embed, hidden, experts, topK, 1, useGroupedGemm: true, dtype: dtype, device: CUDA);
        Assert.That(layer.Path, Is.EqualTo(Moe.MoeExpertPath.GroupedGemm), "grouped GEMM is available for this dtype");
        using Tensor x = randn(new long[] { tokens, embed }, dtype, CUDA);
        using Tensor dy = randn(new long[] { tokens, embed }, dtype, CUDA);

        foreach (Moe.MoeExpertPath path in Enum.GetValues<Moe.MoeExpertPath>())
        {
            using DisposeScope scope = NewDisposeScope();
            (_, Dictionary<string, Tensor> grads) = LayerGradients.Run(layer, path, x, dy);
            TestContext.Out.WriteLine($"{path} {dtype}: " + string.Join(", ", grads.Select(g =>
                $"d{g.Key} {g.Value.to_type(ScalarType.Float64).norm().item<double>():0.000e+0}")));
            LayerGradients.AssertAllNonzero(grads, experts, $"{path} {dtype}");
        }
    }

    private static double[] Host(Tensor t) => TorchCases.Values(t.cpu().to_type(ScalarType.Float64));
}
