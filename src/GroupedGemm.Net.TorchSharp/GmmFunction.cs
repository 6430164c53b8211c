using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// gmm as a TorchSharp custom autograd function, with tgale96's backward: for the forward form
/// dA = gmm(dY, b, transB: !transB) and dB = gmm(a, dY, transA: true) (transB: gmm(dY, a, transA: true)); for the
/// weight-gradient form (transA, y[e] = a_eᵀ b_e) dA = gmm(b, dY, transB: true) and dB = gmm(a, dY).
/// </summary>
/// <remarks>
/// TorchSharp's AutogradContext has no needs_input_grad; forward records whether a and b require grad (what
/// PyTorch's needs_input_grad holds) and backward computes only those gradients. The instance is a TorchSharp
/// singleton, so all per-call state lives in the context.
/// </remarks>
internal sealed class GmmFunction : SingleTensorFunction<GmmFunction>
{
    private const string TransAKey = "transA";
    private const string TransBKey = "transB";
    private const string NeedsAKey = "needsA";
    private const string NeedsBKey = "needsB";

    /// <inheritdoc/>
    public override string Name => "GroupedGemmGmm";

    /// <summary>Forward: vars are (a, b, batchSizes, transA, transB).</summary>
    /// <param name="ctx">The autograd context.</param>
    /// <param name="vars">a, b, batchSizes, transA, transB.</param>
    /// <returns>The product.</returns>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var a = (Tensor)vars[0];
        var b = (Tensor)vars[1];
        var batchSizes = (Tensor)vars[2];
        bool transA = (bool)vars[3];
        bool transB = (bool)vars[4];
        ctx.save_for_backward([a, b, batchSizes]);
        ctx.save_data(TransAKey, transA);
        ctx.save_data(TransBKey, transB);
        ctx.save_data(NeedsAKey, a.requires_grad);
        ctx.save_data(NeedsBKey, b.requires_grad);
        return GmmKernels.Compute(a, b, batchSizes, transA, transB);
    }

    /// <summary>Backward: the gradients of a and b that are needed; none for batchSizes and the flags.</summary>
    /// <param name="ctx">The autograd context.</param>
    /// <param name="grad_output">dY.</param>
    /// <returns>[dA or null, dB or null, null, null, null].</returns>
#pragma warning disable CA1725 // TorchSharp's parameter name
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
#pragma warning restore CA1725
    {
        List<Tensor> saved = ctx.get_saved_variables();
        Tensor a = saved[0], b = saved[1], batchSizes = saved[2];
        bool transA = (bool)ctx.get_data(TransAKey);
        bool transB = (bool)ctx.get_data(TransBKey);
        using Tensor dy = grad_output.contiguous();
        Tensor? da = null, db = null;
        if ((bool)ctx.get_data(NeedsAKey))
        {
            da = transA
                ? GmmKernels.Compute(b, dy, batchSizes, transA: false, transB: true)
                : GmmKernels.Compute(dy, b, batchSizes, transA: false, transB: !transB);
        }

        if ((bool)ctx.get_data(NeedsBKey))
        {
            db = transA
                ? GmmKernels.Compute(a, dy, batchSizes, transA: false, transB: false)
                : transB
                    ? GmmKernels.Compute(dy, a, batchSizes, transA: true, transB: false)
                    : GmmKernels.Compute(a, dy, batchSizes, transA: true, transB: false);
        }

        return [da!, db!, null!, null!, null!];
    }
}
