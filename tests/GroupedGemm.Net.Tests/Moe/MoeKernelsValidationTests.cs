using GroupedGemm.MoE;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Argument checks of <see cref="MoeKernels"/>. They run before any native call, so these tests need no GPU: the
/// tensors wrap fake device addresses and are never dereferenced.
/// </summary>
[TestFixture]
internal sealed class MoeKernelsValidationTests
{
    private static nint s_next = 0x10000;

    private static DeviceTensor Fake(DType dtype, params long[] shape)
    {
        s_next += 0x100000;
        return DeviceTensor.Wrap(s_next, dtype, shape, device: 0);
    }

    [Test]
    public void TopKSoftmax_rejects_top_k_above_the_expert_count()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            MoeKernels.TopKSoftmax(Fake(DType.BFloat16, 4, 8), Fake(DType.Float32, 4, 9), Fake(DType.Int32, 4, 9), true));
        Assert.That(e!.ParamName, Is.EqualTo("weights"));
        Assert.That(e.Message, Does.Contain("[1, 8]"));
    }

    [Test]
    public void TopKSoftmax_rejects_integer_logits_and_float16_weights()
    {
        Assert.That(() => MoeKernels.TopKSoftmax(Fake(DType.Int32, 4, 8), Fake(DType.Float32, 4, 2), Fake(DType.Int32, 4, 2), false),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("logits"));
        Assert.That(() => MoeKernels.TopKSoftmax(Fake(DType.Float32, 4, 8), Fake(DType.Float16, 4, 2), Fake(DType.Int32, 4, 2), false),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("weights"));
    }

    [Test]
    public void SortByExpert_rejects_outputs_of_the_wrong_length()
    {
        Assert.That(() => MoeKernels.SortByExpert(Fake(DType.Int32, 10, 2), Fake(DType.Int64, 4), Fake(DType.Int32, 19),
                Fake(DType.Int32, 20), Fake(DType.Int64, 1000)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("sortedSlots").And.Message.Contains("20 elements"));
    }

    [Test]
    public void GatherRows_rejects_mixed_element_types_and_bad_divisor()
    {
        Assert.That(() => MoeKernels.GatherRows(Fake(DType.BFloat16, 5, 8), Fake(DType.Int32, 5), 1, Fake(DType.Float16, 5, 8)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("destination"));
        Assert.That(() => MoeKernels.GatherRows(Fake(DType.BFloat16, 5, 8), Fake(DType.Int32, 5), 0, Fake(DType.BFloat16, 5, 8)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("indexDivisor"));
    }

    [Test]
    public void BiasActivation_rejects_bias_of_another_expert_count()
    {
        Assert.That(() => MoeKernels.BiasActivation(Fake(DType.Float16, 10, 8), Fake(DType.Float16, 3, 8), Fake(DType.Int64, 4), Activation.Gelu),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("bias").And.Message.Contains("[4, 8]"));
    }

    [Test]
    public void GatedActivation_rejects_odd_width_and_wrong_output()
    {
        Assert.That(() => MoeKernels.GatedActivation(Fake(DType.Float32, 10, 7), null, Fake(DType.Int64, 4), Activation.Silu, Fake(DType.Float32, 10, 3)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("gateUp"));
        Assert.That(() => MoeKernels.GatedActivation(Fake(DType.Float32, 10, 8), null, Fake(DType.Int64, 4), Activation.Silu, Fake(DType.Float32, 10, 8)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("output"));
    }

    [Test]
    public void Combine_rejects_expert_rows_that_are_not_tokens_times_top_k()
    {
        Assert.That(() => MoeKernels.Combine(Fake(DType.BFloat16, 15, 8), Fake(DType.Int32, 16), Fake(DType.Float32, 8, 2), null, Fake(DType.BFloat16, 8, 8)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("expertOutput"));
    }

    [Test]
    public void Pad_rejects_padded_tensor_of_another_width()
    {
        Assert.That(() => MoeKernels.Pad(Fake(DType.BFloat16, 15, 8), Fake(DType.Int64, 3), Fake(DType.BFloat16, 3, 5, 9)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("padded"));
    }

    [Test]
    public void Unpad_rejects_expert_count_mismatch()
    {
        Assert.That(() => MoeKernels.Unpad(Fake(DType.BFloat16, 4, 5, 8), Fake(DType.Int64, 3), Fake(DType.BFloat16, 15, 8)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("padded"));
    }

    [Test]
    public void Convert_rejects_integer_types_and_count_mismatch()
    {
        Assert.That(() => MoeKernels.Convert(Fake(DType.Int64, 4), Fake(DType.Float32, 4)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("source"));
        Assert.That(() => MoeKernels.Convert(Fake(DType.Float32, 4), Fake(DType.BFloat16, 5)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("destination"));
    }

    [Test]
    public void Tensors_on_different_devices_are_rejected()
    {
        DeviceTensor onOne = DeviceTensor.Wrap(0x9990000, DType.Float32, [4], device: 1);
        Assert.That(() => MoeKernels.Convert(Fake(DType.Float32, 4), onOne),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("destination").And.Message.Contains("device 1"));
    }

    [Test]
    public void Reference_erf_matches_known_values()
    {
        Assert.That(ReferenceMath.Erf(0.5), Is.EqualTo(0.5204998778130465).Within(1e-14));
        Assert.That(ReferenceMath.Erf(-2.0), Is.EqualTo(-0.9953222650189527).Within(1e-14));
        Assert.That(ReferenceMath.Erf(3.5), Is.EqualTo(0.9999992569016276).Within(1e-14));
    }
}
