using GroupedGemm.Tests.Cpu;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Argument checks of the MoE backward kernels (<c>MoeKernels.Backward.cs</c>). They run before any native call, so
/// these tests need no GPU: the tensors wrap fake device addresses and are never dereferenced.
/// </summary>
[TestFixture]
internal sealed class MoeBackwardValidationTests
{
    private static DeviceTensor Fake(DType dtype, params long[] shape) => FakeTensors.Make(dtype, shape);

    [Test]
    public void CombineBackward_needs_an_output_and_the_inputs_it_reads()
    {
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, null), "expertOutputGradient", "nothing to compute");
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), null, Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, Fake(DType.Float32, 4, 2)), "expertOutput");
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            null, Fake(DType.BFloat16, 8, 8), null), "weights");
    }

    [Test]
    public void CombineBackward_rejects_wrong_shapes_and_types()
    {
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 7),
            Fake(DType.Float32, 4, 2), Fake(DType.BFloat16, 8, 8), null), "slotRows", "8 elements");
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, Fake(DType.Float16, 4, 2)), "weightsGradient", "Float32");
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.Float16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), null, Fake(DType.Float32, 4, 2)), "expertOutput");
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.BFloat16, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), Fake(DType.BFloat16, 8, 9), null), "expertOutputGradient", "[8, 8]");
        ArgumentAssert.Rejects(() => MoeKernels.CombineBackward(Fake(DType.Int32, 4, 8), Fake(DType.BFloat16, 8, 8), Fake(DType.Int32, 8),
            Fake(DType.Float32, 4, 2), Fake(DType.BFloat16, 8, 8), null), "outputGradient", "float type");
    }

    [Test]
    public void GatherRowsBackward_rejects_bad_top_k_and_mixed_types()
    {
        Assert.That(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int32, 8), 0, Fake(DType.BFloat16, 4, 4)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("topK"));
        ArgumentAssert.Rejects(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int32, 8), 2, Fake(DType.Float16, 4, 4)),
            "sourceGradient");
        ArgumentAssert.Rejects(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int32, 8), 2, Fake(DType.BFloat16, 4, 5)),
            "sourceGradient", "[4, 4]");
        ArgumentAssert.Rejects(() => MoeKernels.GatherRowsBackward(Fake(DType.BFloat16, 8, 4), Fake(DType.Int64, 8), 2, Fake(DType.BFloat16, 4, 4)),
            "slotRows", "Int32");
    }

    [Test]
    public void ActivationBackward_rejects_mismatched_gradients_counts_and_bias()
    {
        ArgumentAssert.Rejects(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), Activation.Gelu,
            Fake(DType.BFloat16, 10, 9), Fake(DType.BFloat16, 10, 8)), "outputGradient", "must match x");
        ArgumentAssert.Rejects(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int32, 3), Activation.Gelu,
            Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)), "counts", "Int64");
        ArgumentAssert.Rejects(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 3),
            Activation.Gelu, Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)), "bias", "[3, 8]");
        Assert.That(() => MoeKernels.BiasActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), (Activation)42,
                Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("activation"));
        ArgumentAssert.Rejects(() => MoeKernels.BiasActivationBackwardPadded(Fake(DType.Float16, 0, 4, 8), null, Activation.Relu,
            Fake(DType.Float16, 0, 4, 8), Fake(DType.Float16, 0, 4, 8)), "x", "no expert");
    }

    [Test]
    public void GatedActivationBackward_rejects_odd_widths_and_wrong_gradients()
    {
        ArgumentAssert.Rejects(() => MoeKernels.GatedActivationBackward(Fake(DType.BFloat16, 10, 9), null, Fake(DType.Int64, 3), Activation.Silu,
            Fake(DType.BFloat16, 10, 4), Fake(DType.BFloat16, 10, 9)), "gateUp", "even");
        ArgumentAssert.Rejects(() => MoeKernels.GatedActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), Activation.Silu,
            Fake(DType.BFloat16, 10, 8), Fake(DType.BFloat16, 10, 8)), "outputGradient", "[10, 4]");
        ArgumentAssert.Rejects(() => MoeKernels.GatedActivationBackward(Fake(DType.BFloat16, 10, 8), null, Fake(DType.Int64, 3), Activation.Silu,
            Fake(DType.BFloat16, 10, 4), Fake(DType.BFloat16, 10, 4)), "gateUpGradient", "must match gateUp");
        ArgumentAssert.Rejects(() => MoeKernels.GatedActivationBackwardPadded(Fake(DType.BFloat16, 2, 5, 8), null, Activation.Silu,
            Fake(DType.BFloat16, 2, 5, 8), Fake(DType.BFloat16, 2, 5, 8)), "outputGradient", "[2, 5, 4]");
    }

    [Test]
    public void BiasGradient_wants_a_float32_output_per_expert()
    {
        ArgumentAssert.Rejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 3), Fake(DType.BFloat16, 3, 8)),
            "biasGradient", "Float32");
        ArgumentAssert.Rejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 3), Fake(DType.Float32, 4, 8)),
            "biasGradient", "[3, 8]");
        ArgumentAssert.Rejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 0), Fake(DType.Float32, 0, 8)),
            "counts", "at least one expert");
        ArgumentAssert.Rejects(() => MoeKernels.BiasGradientPadded(Fake(DType.BFloat16, 3, 5, 8), Fake(DType.Float32, 3, 5)),
            "biasGradient", "[3, 8]");
    }

    [Test]
    public void TopKSoftmaxBackward_needs_logits_without_renormalisation_and_a_valid_top_k()
    {
        ArgumentAssert.Rejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2), Fake(DType.Float32, 4, 2),
            renormalize: false, Fake(DType.BFloat16, 4, 8)), "logits", "not renormalised");
        ArgumentAssert.Rejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 9), Fake(DType.Int32, 4, 9), Fake(DType.Float32, 4, 9),
            renormalize: true, Fake(DType.BFloat16, 4, 8)), "weights", "[1, 8]");
        ArgumentAssert.Rejects(() => MoeKernels.TopKSoftmaxBackward(Fake(DType.Float16, 4, 8), Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2),
            Fake(DType.Float32, 4, 2), renormalize: false, Fake(DType.BFloat16, 4, 8)), "logits", "BFloat16 [4, 8]");
        ArgumentAssert.Rejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 2), Fake(DType.Int64, 4, 2), Fake(DType.Float32, 4, 2),
            renormalize: true, Fake(DType.BFloat16, 4, 8)), "experts", "Int32");
        ArgumentAssert.Rejects(() => MoeKernels.TopKSoftmaxBackward(null, Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2), Fake(DType.Float32, 3, 2),
            renormalize: true, Fake(DType.BFloat16, 4, 8)), "weightsGradient", "[4, 2]");
    }

    [Test]
    public void LoadBalancingLoss_rejects_bad_top_k_counts_coefficient_and_no_output()
    {
        Assert.That(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 9, 0.01f, Fake(DType.Float32, 1), null),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("topK"));
        Assert.That(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, float.NaN, Fake(DType.Float32, 1), null),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("coefficient"));
        ArgumentAssert.Rejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 7), 2, 0.01f, Fake(DType.Float32, 1), null),
            "counts", "[8]");
        ArgumentAssert.Rejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, 0.01f, null, null),
            "loss", "nothing to compute");
        ArgumentAssert.Rejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, 0.01f, Fake(DType.Float32, 2), null),
            "loss", "1 elements");
        ArgumentAssert.Rejects(() => MoeKernels.LoadBalancingLoss(Fake(DType.BFloat16, 4, 8), Fake(DType.Int64, 8), 2, 0.01f, null, Fake(DType.Float32, 4, 8)),
            "logitsGradient", "BFloat16");
    }

    [Test]
    public void Tensors_on_two_devices_are_rejected()
    {
        DeviceTensor other = FakeTensors.On(1, DType.Float32, 3, 8);
        ArgumentAssert.Rejects(() => MoeKernels.BiasGradient(Fake(DType.BFloat16, 10, 8), Fake(DType.Int64, 3), other), "biasGradient", "device 1");
    }
}
