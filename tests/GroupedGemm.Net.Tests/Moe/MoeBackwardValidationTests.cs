using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Argument checks of the MoE backward kernels (<c>MoeKernels.Backward.cs</c>). They run before any native call, so
/// these tests need no GPU: the tensors wrap fake device addresses and are never dereferenced.
/// </summary>
[TestFixture]
internal sealed class MoeBackwardValidationTests
{
    private static nint s_next = 0x40000000;

    private static DeviceTensor Fake(DType dtype, params long[] shape)
    {
        s_next += 0x100000;
        return DeviceTensor.Wrap(s_next, dtype, shape, device: 0);
    }

    private static void AssertRejects(TestDelegate call, string paramName, string? message = null)
    {
        var e = Assert.Catch<ArgumentException>(call);
        Assert.That(e!.ParamName, Is.EqualTo(paramName), e.Message);
        if (message is not null) Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void CombineBackward_needs_an_output_and_the_inputs_it_reads()
    {
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, null), "expertOutputGradient", "nothing to compute");
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), null, Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, Fake(DType.Float32, 4, 2)), "expertOutput");
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            null, Fake(DType.BFloat16, 8, 8), null), "weights");
    }

    [Test]
    public void CombineBackward_rejects_wrong_shapes_and_types()
    {
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 7),
            Fake(DType.Float32, 4, 2), Fake(DType.BFloat16, 8, 8), null), "slotRows", "8 elements");
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, Fake(DType.Float16, 4, 2)), "weightsGradient", "Float32");
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.Float16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, Fake(DType.Float32, 4, 2)), "expertOutput");
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), Fake(DType.BFloat16, 8, 9), null), "expertOutputGradient", "[8, 8]");
        AssertRejects(() => MoeKernels.CombineBackward(Fake(DType.Int32, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), Fake(DType.BFloat16, 8, 8), null), "outputGradient", "float type");
    }

    [Test]
    public void GatherRowsBackward_rejects_bad_top_k_and_mixed_types()
    {
        Assert.That(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int32, 8), 0, Fake(DType.BFloat16, 4, 4)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("topK"));
        AssertRejects(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int32, 8), 2, Fake(DType.Float16, 4, 4)),
            "sourceGradient");
        AssertRejects(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int32, 8), 2, Fake(DType.BFloat16, 4, 5)),
            "sourceGradient", "[4, 4]");
        AssertRejects(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int64, 8), 2, Fake(DType.BFloat16, 4, 4)),
            "slotRows", "Int32");
    }

    [Test]
    public void ActivationBackward_rejects_mismatched_gradients_counts_and_bias()
    {
        AssertRejects(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), Activation.Gelu,
            Fake(DType.BFloat16, 10, 9), Fake(DType.BFloat16, 10, 8)), "outputGradient", "must match x");
        AssertRejects(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int32, 3), Activation.Gelu,
            Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)), "counts", "Int64");
        AssertRejects(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 3),
            Activation.Gelu, Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)), "bias", "[3, 8]");
        Assert.That(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), (Activation)42,
                Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("activation"));
        AssertRejects(() => MoeKernels.BiasActivationBackwardPadded(Fake(DType.Float16, 0, 4, 8), null, Activation.Relu,
            Fake(DType.Float16, 0, 4, 8), Fake(DType.Float16, 0, 4, 8)), "x", "no expert");
    }

    [Test]
    public void GatedActivationBackward_rejects_odd_widths_and_wrong_gradients()
    {
        AssertRejects(() => MoeKernels.GatedActivationBackward(Fake(DType.BFloat16, 10, 9), null, Fake(DType.Int64, 3), Activation.Silu,
            Fake(DType.BFloat16, 10, 4), Fake(DType.BFloat16, 10, 9)), "gateUp", "even");
        AssertRejects(() => MoeKernels.GatedActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), Activation.Silu,
            Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)), "outputGradient", "[10, 4]");
        AssertRejects(() => MoeKernels.GatedActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), Activation.Silu,
            Fake(DType.BFloat16, 10, 4), Fake(DType.BFloat16, 10, 4)), "gateUpGradient", "must match gateUp");
        AssertRejects(() => MoeKernels.GatedActivationBackwardPadded(Fake(DType.BFloat16, 2, 5, 8), null, Activation.Silu,
            Fake(DType.BFloat16, 2, 5, 8), Fake(DType.BFloat16, 2, 5, 8)), "outputGradient", "[2, 5, 4]");
    }

    [Test]
    public void BiasGradient_wants_a_float32_output_per_expert()
    {
        AssertRejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 3), Fake(DType.BFloat16, 3, 8)),
            "biasGradient", "Float32");
        AssertRejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 3), Fake(DType.Float32, 4, 8)),
            "biasGradient", "[3, 8]");
        AssertRejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 0), Fake(DType.Float32, 0, 8)),
            "counts", "at least one expert");
        AssertRejects(() => MoeKernels.BiasGradientPadded(Fake(DType.BFloat16, 3, 5, 8), Fake(DType.Float32, 3, 5)),
            "biasGradient", "[3, 8]");
    }

    [Test]
    public void TopKSoftmaxBackward_needs_logits_without_renormalisation_and_a_valid_top_k()
    {
        AssertRejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2), Fake(DType.Float32, 4, 2),
            renormalize: false, Fake(DType.BFloat16, 4, 8)), "logits", "not renormalised");
        AssertRejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 9), Fake(DType.Int32, 4, 9), Fake(DType.Float32, 4, 9),
            renormalize: true, Fake(DType.BFloat16, 4, 8)), "weights", "[1, 8]");
        AssertRejects(() => MoeKernels.TopKSoftmaxBackward(Fake(DType.Float16, 4, 8), Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2),
            Fake(DType.Float32, 4, 2), renormalize: false, Fake(DType.BFloat16, 4, 8)), "logits", "BFloat16 [4, 8]");
        AssertRejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 2), Fake(DType.Int64, 4, 2), Fake(DType.Float32, 4, 2),
            renormalize: true, Fake(DType.BFloat16, 4, 8)), "experts", "Int32");
        AssertRejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2), Fake(DType.Float32, 3, 2),
            renormalize: true, Fake(DType.BFloat16, 4, 8)), "weightsGradient", "[4, 2]");
    }

    [Test]
    public void LoadBalancingLoss_rejects_bad_top_k_counts_coefficient_and_no_output()
    {
        Assert.That(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 9, 0.01f, Fake(DType.Float32, 1), null),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("topK"));
        Assert.That(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, float.NaN, Fake(DType.Float32, 1), null),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("coefficient"));
        AssertRejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 7), 2, 0.01f, Fake(DType.Float32, 1), null),
            "counts", "[8]");
        AssertRejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, 0.01f, null, null),
            "loss", "nothing to compute");
        AssertRejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, 0.01f, Fake(DType.Float32, 2), null),
            "loss", "1 elements");
        AssertRejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, 0.01f, null, Fake(DType.Float32, 4, 8)),
            "logitsGradient", "BFloat16");
    }

    [Test]
    public void Tensors_on_two_devices_are_rejected()
    {
        DeviceTensor other = DeviceTensor.Wrap(s_next += 0x100000, DType.Float32, [3, 8], device: 1);
        AssertRejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 3), other), "biasGradient", "device 1");
    }
}
