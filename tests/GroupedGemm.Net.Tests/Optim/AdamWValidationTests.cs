using GroupedGemm.Tests.Cpu;
using GroupedGemm.Tests.Support;
using NUnit.Framework;
using DeviceAdamW = GroupedGemm.Optim.AdamW;

namespace GroupedGemm.Tests.Optim;

/// <summary>
/// Argument checks of the device AdamW (<see cref="DeviceAdamW"/>). They run before any native call, so these tests
/// need no GPU: the tensors wrap fake device addresses and are never dereferenced.
/// </summary>
[TestFixture]
internal sealed class AdamWValidationTests
{
    private static DeviceTensor Fake(DType dtype, params long[] shape) => FakeTensors.Make(dtype, shape);

    [Test]
    public void Master_weights_and_moments_must_be_float32_of_one_size()
    {
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.BFloat16, 8), Fake(DType.Float32, 8), Fake(DType.Float32, 8),
            Fake(DType.Float32, 8), 1, 1e-3f), "parameter", "Float32");
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.Float32, 8), Fake(DType.Float32, 7), Fake(DType.Float32, 8),
            Fake(DType.Float32, 8), 1, 1e-3f), "expAvg", "8 elements");
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.Float32, 8), Fake(DType.Float32, 8), Fake(DType.Float16, 8),
            Fake(DType.Float32, 8), 1, 1e-3f), "expAvgSq", "Float32");
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.Float32, 2, 4), Fake(DType.Float32, 8), Fake(DType.Float32, 8),
            Fake(DType.Int32, 8), 1, 1e-3f), "gradient", "float type");
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.Float32, 8), Fake(DType.Float32, 8), Fake(DType.Float32, 8),
            Fake(DType.BFloat16, 9), 1, 1e-3f), "gradient", "8 elements");
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.Float32, 8), Fake(DType.Float32, 8), Fake(DType.Float32, 8),
            Fake(DType.BFloat16, 8), 1, 1e-3f, parameterCopy: Fake(DType.BFloat16, 4)), "parameterCopy", "8 elements");
    }

    [Test]
    public void A_buffer_given_twice_is_refused_with_both_names()
    {
        DeviceTensor p = Fake(DType.Float32, 8);
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(p, p, Fake(DType.Float32, 8), Fake(DType.Float32, 8), 1, 1e-3f), "expAvg", "parameter");
        DeviceTensor m = Fake(DType.Float32, 8);
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(Fake(DType.Float32, 8), m, Fake(DType.Float32, 8), m, 1, 1e-3f), "gradient", "expAvg");
        DeviceTensor whole = Fake(DType.Float32, 16);
        ArgumentAssert.Rejects(() => DeviceAdamW.Step(whole.Slice(0, 8), Fake(DType.Float32, 8), Fake(DType.Float32, 8),
            Fake(DType.Float32, 8), 1, 1e-3f, parameterCopy: whole.Slice(4, 8)), "parameterCopy", "parameter");
    }

    [Test]
    public void Scalars_out_of_range_are_refused()
    {
        DeviceTensor P() => Fake(DType.Float32, 8);
        Assert.That(() => DeviceAdamW.Step(P(), P(), P(), P(), 0, 1e-3f),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("step"));
        Assert.That(() => DeviceAdamW.Step(P(), P(), P(), P(), 1, float.NaN),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("learningRate"));
        Assert.That(() => DeviceAdamW.Step(P(), P(), P(), P(), 1, 1e-3f, beta1: 1f),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("beta1"));
        Assert.That(() => DeviceAdamW.Step(P(), P(), P(), P(), 1, 1e-3f, beta2: -0.1f),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("beta2"));
        Assert.That(() => DeviceAdamW.Step(P(), P(), P(), P(), 1, 1e-3f, epsilon: float.PositiveInfinity),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("epsilon"));
        Assert.That(() => DeviceAdamW.Step(P(), P(), P(), P(), 1, 1e-3f, weightDecay: -1f),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("weightDecay"));
    }

    [Test]
    public void Device_corrections_must_be_two_float32_elements()
    {
        DeviceTensor P() => Fake(DType.Float32, 8);
        ArgumentAssert.Rejects(() => DeviceAdamW.StepWithDeviceCorrections(P(), P(), P(), P(), Fake(DType.Float32, 3), 1e-3f),
            "biasCorrections", "two Float32 elements");
        ArgumentAssert.Rejects(() => DeviceAdamW.StepWithDeviceCorrections(P(), P(), P(), P(), Fake(DType.Float16, 2), 1e-3f),
            "biasCorrections", "two Float32 elements");
    }

    [Test]
    public void Bias_corrections_are_one_minus_beta_to_the_step()
    {
        Assert.That(DeviceAdamW.BiasCorrections(1, 0.9f, 0.999f), Is.EqualTo(new[] { (float)(1 - (double)0.9f), (float)(1 - (double)0.999f) }));
        Assert.That(DeviceAdamW.BiasCorrections(3, 0.5f, 0.25f), Is.EqualTo(new[] { 0.875f, 1 - 1f / 64 }));
        Assert.That(() => DeviceAdamW.BiasCorrections(0, 0.9f, 0.999f), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
