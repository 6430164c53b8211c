using GroupedGemm.TorchSharp.Moe;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>One forward and backward of a MoE layer on a chosen expert path, and checks on the gradients it leaves.</summary>
internal static class LayerGradients
{
    /// <summary>
    /// Runs <paramref name="layer"/> on <paramref name="x"/> with <paramref name="path"/> and backpropagates
    /// <paramref name="dy"/>.
    /// </summary>
    /// <returns>The output and every parameter's gradient by name, plus the input's as "x" (clones, detached).</returns>
    internal static (Tensor Y, Dictionary<string, Tensor> Grads) Run(MoeFeedForwardBase layer, MoeExpertPath path, Tensor x, Tensor dy)
    {
        layer.Path = path;
        layer.zero_grad();
        using Tensor input = x.detach().requires_grad_();
        Tensor y = layer.forward(input);
        y.backward([dy]);
        var grads = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        grads["x"] = input.grad!.clone();
        return (y.detach(), grads);
    }

    /// <summary>
    /// Asserts that every gradient is finite and not all zero and, for the routed experts' parameters (leading
    /// dimension E), that each expert's slice is nonzero: with random x and dy and every expert routed some rows, a zero
    /// anywhere means a gradient that never arrived (an all-zero reference on both sides would pass a parity check).
    /// </summary>
    /// <param name="grads">From <see cref="Run"/>.</param>
    /// <param name="experts">E.</param>
    /// <param name="what">The path and dtype, for the messages.</param>
    internal static void AssertAllNonzero(Dictionary<string, Tensor> grads, long experts, string what)
    {
        foreach ((string name, Tensor grad) in grads)
        {
            using Tensor g = grad.detach().cpu().to_type(ScalarType.Float64);
            Assert.That(g.isfinite().all().item<bool>(), Is.True, $"{what}: d{name} is finite");
            Assert.That(g.abs().max().item<double>(), Is.GreaterThan(0), $"{what}: d{name} is not all zero");
            if (name is "w1" or "w2" or "b1" or "b2")
            {
                using Tensor perExpert = g.abs().reshape(experts, -1).amax(1);
                double[] maxima = perExpert.data<double>().ToArray();
                Assert.That(maxima, Has.All.GreaterThan(0), $"{what}: d{name} of every expert is not all zero");
            }
        }
    }
}
