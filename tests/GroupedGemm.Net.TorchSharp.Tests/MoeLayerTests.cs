using GroupedGemm.TorchSharp.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>
/// The TorchSharp MoE layers on the CPU in float64: the grouped GEMM path, the padded bmm fallback and the
/// per-expert loop compute the same output and gradients; use_grouped_gemm picks the path; a short AdamW run on a
/// teacher task lowers the loss.
/// </summary>
public sealed class MoeLayerTests : TorchFixture
{
    private const long Tokens = 24, Embed = 6, Hidden = 10, Experts = 5, Shared = 1;
    private const int TopK = 2;

    private static MoeFeedForwardBase Create(bool gated, bool useGroupedGemm = true, ScalarType dtype = ScalarType.Float64) =>
        gated
            ? new VectorizedGatedMoeFeedForward(Embed, Hidden, Experts, TopK, Shared, useGroupedGemm, dtype: dtype)
            : new VectorizedMoeFeedForward(Embed, Hidden, Experts, TopK, Shared, useGroupedGemm, dtype: dtype);

    [TestCase(false)]
    [TestCase(true)]
    public void Paths_agree_on_output_and_every_gradient(bool gated)
    {
        torch.manual_seed(7);
        using MoeFeedForwardBase layer = Create(gated);
        using Tensor x = TorchCases.Random(41, Tokens, Embed);
        using Tensor dy = TorchCases.Random(42, Tokens, Embed);

        var results = new Dictionary<MoeExpertPath, (Tensor Y, Dictionary<string, Tensor> Grads)>();
        foreach (MoeExpertPath path in Enum.GetValues<MoeExpertPath>())
            results[path] = LayerGradients.Run(layer, path, x, dy);

        (Tensor refY, Dictionary<string, Tensor> refGrads) = results[MoeExpertPath.PerExpertLoop];
        Assert.That(refGrads, Has.Count.EqualTo(gated ? 6 : 10), "router, experts, shared experts (+ biases) and x");
        foreach (MoeExpertPath path in new[] { MoeExpertPath.GroupedGemm, MoeExpertPath.PaddedBmm })
        {
            Assert.That(MaxDifference(results[path].Y, refY), Is.LessThan(1e-12), $"{path} output");
            foreach ((string name, Tensor grad) in refGrads)
            {
                Assert.That(grad.abs().max().item<double>(), Is.GreaterThan(0), $"d{name} is not all zero");
                Assert.That(MaxDifference(results[path].Grads[name], grad), Is.LessThan(1e-12), $"{path} d{name}");
            }
        }
    }

    // The dtypes the layer trains in (the GPU parity printout showed bf16 weight gradients that matched exactly on
    // every path, so "not all zero" is checked for them too), on every path, at a size where each expert gets rows.
    [TestCase(false, ScalarType.BFloat16)]
    [TestCase(true, ScalarType.BFloat16)]
    [TestCase(false, ScalarType.Float32)]
    [TestCase(true, ScalarType.Float32)]
    public void Every_gradient_is_nonzero_on_every_path(bool gated, ScalarType dtype)
    {
        const long tokens = 128, embed = 16, hidden = 32, experts = 8;
        torch.manual_seed(13);
        using MoeFeedForwardBase layer = gated
            ? new VectorizedGatedMoeFeedForward(embed, hidden, experts, topK: 2, numSharedExperts: 1, useGroupedGemm: true, dtype: dtype)
            : new VectorizedMoeFeedForward(embed, hidden, experts, topK: 2, numSharedExperts: 1, useGroupedGemm: true, dtype: dtype);
        using Tensor x = TorchCases.Random(51, tokens, embed).to_type(dtype);
        using Tensor dy = TorchCases.Random(52, tokens, embed).to_type(dtype);

        foreach (MoeExpertPath path in Enum.GetValues<MoeExpertPath>())
        {
            (Tensor y, Dictionary<string, Tensor> grads) = LayerGradients.Run(layer, path, x, dy);
            Assert.That(grads, Has.Count.EqualTo(gated ? 6 : 10), "router, experts, shared experts (+ biases) and x");
            Assert.That(y.dtype, Is.EqualTo(dtype));
            Assert.That(grads.Values.Select(g => g.dtype), Has.All.EqualTo(dtype), "gradients in the parameters' dtype");
            LayerGradients.AssertAllNonzero(grads, experts, $"{path} {dtype}");
        }
    }

    [Test]
    public void UseGroupedGemm_picks_the_path()
    {
        using MoeFeedForwardBase grouped = Create(gated: false, useGroupedGemm: true);
        using MoeFeedForwardBase padded = Create(gated: true, useGroupedGemm: false);

        Assert.That(grouped.Path, Is.EqualTo(MoeExpertPath.GroupedGemm));
        Assert.That(padded.Path, Is.EqualTo(MoeExpertPath.PaddedBmm));
        Assert.That(GroupedGemmTorch.IsAvailable(CPU, ScalarType.Float64, out string? reason), Is.True);
        Assert.That(reason, Is.Null);
    }

    [Test]
    public void Forward_rejects_tokens_of_the_wrong_width()
    {
        using MoeFeedForwardBase layer = Create(gated: false);
        using Tensor x = zeros([Tokens, Embed + 1], ScalarType.Float64);

        var e = Assert.Throws<ArgumentException>(() => layer.forward(x));
        Assert.That(e!.Message, Does.Contain($"D = {Embed}").And.Contain($"{Embed + 1}"));
    }

    [Test]
    public void TopK_larger_than_the_experts_is_rejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new VectorizedMoeFeedForward(Embed, Hidden, numExperts: 2, topK: 3));
        Assert.That(e!.ParamName, Is.EqualTo("topK"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void AdamW_on_a_teacher_task_lowers_the_loss(bool gated)
    {
        torch.manual_seed(11);
        using MoeFeedForwardBase teacher = Create(gated, dtype: ScalarType.Float32);
        using MoeFeedForwardBase student = Create(gated, dtype: ScalarType.Float32);
        using var optimizer = optim.AdamW(student.parameters(), lr: 1e-2);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using DisposeScope scope = NewDisposeScope();
            Tensor x = randn([Tokens, Embed]);
            Tensor target;
            using (no_grad()) target = teacher.forward(x) * 10;
            Tensor loss = nn.functional.mse_loss(student.forward(x), target);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }

        Assert.That(last, Is.LessThan(first / 2), $"loss {first} -> {last}");
    }

    private static double MaxDifference(Tensor a, Tensor b)
    {
        using Tensor d = (a - b).abs().max();
        return d.item<double>();
    }
}
