using GroupedGemm.Tests.Gpu;
using GroupedGemm.Tests.Moe;
using NUnit.Framework;
using DeviceAdamW = GroupedGemm.Optim.AdamW;
using ReferenceAdamW = GroupedGemm.MoE.Training.AdamW;

namespace GroupedGemm.Tests.Optim;

/// <summary>
/// The device AdamW (<see cref="DeviceAdamW"/>) against the sample's float64 AdamW (<see cref="ReferenceAdamW"/>,
/// PyTorch's update order) over several steps, for every gradient type, with and without the low-precision copy of
/// the weights, with the corrections as scalars or on the device; poisoned outputs show any element left unwritten.
/// </summary>
[TestFixture]
[Category("Gpu")]
internal sealed class AdamWKernelTests : GpuFixture
{
    private const int Steps = 4;
    private const float LearningRate = 1e-2f, Beta1 = 0.9f, Beta2 = 0.99f, Epsilon = 1e-8f, WeightDecay = 0.05f;

    [Test]
    public void Steps_match_the_float64_reference(
        [Values(DType.Float32, DType.BFloat16, DType.Float16)] DType gradientType,
        [Values(null, DType.BFloat16, DType.Float16)] DType? copyType,
        [Values(1, 4099)] int n,
        [Values(false, true)] bool deviceCorrections)
    {
        var random = new Random(n + (int)gradientType * 7 + (copyType is null ? 0 : (int)copyType.Value * 131));
        float[] initial = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        double[] expected = initial.Select(v => (double)v).ToArray();
        var reference = new ReferenceAdamW([("p", expected)], LearningRate, Beta1, Beta2, Epsilon, WeightDecay);

        using DeviceTensor p = DeviceTensor.FromArray(initial, n);
        using DeviceTensor m = DeviceTensor.Allocate(DType.Float32, n), v = DeviceTensor.Allocate(DType.Float32, n);
        m.Zero();
        v.Zero();
        using DeviceTensor g = DeviceTensor.Allocate(gradientType, n), gStage = DeviceTensor.Allocate(DType.Float32, n);
        using DeviceTensor? copy = copyType is null ? null : DeviceTensor.Allocate(copyType.Value, n);
        using DeviceTensor corrections = DeviceTensor.Allocate(DType.Float32, 2);
        for (int step = 1; step <= Steps; step++)
        {
            // Gradients of mixed scale, some exactly zero; the reference sees them after rounding to the gradient type.
            float[] gradient = Enumerable.Range(0, n)
                .Select(i => i % 17 == 3 ? 0f : (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 2)))).ToArray();
            gStage.CopyFrom<float>(gradient);
            MoeKernels.Convert(gStage, g);
            MoeKernels.Convert(g, gStage);
            reference.Step([("g", gStage.ToArray<float>().Select(x => (double)x).ToArray())]);

            copy?.Fill(0xFF);
            if (deviceCorrections)
            {
                corrections.CopyFrom<float>(DeviceAdamW.BiasCorrections(step, Beta1, Beta2));
                DeviceAdamW.StepWithDeviceCorrections(p, m, v, g, corrections, LearningRate, Beta1, Beta2, Epsilon, WeightDecay, copy);
            }
            else
            {
                DeviceAdamW.Step(p, m, v, g, step, LearningRate, Beta1, Beta2, Epsilon, WeightDecay, copy);
            }

            double[] actual = p.ToArray<float>().Select(x => (double)x).ToArray();
            string what = $"{gradientType} gradient, copy {copyType?.ToString() ?? "none"}, n {n}, step {step}";
            MoeTestData.AssertClose(actual, expected, 2e-6, what + ": parameter");
            // Element by element too: an update of lr at most, in fp32 arithmetic, per step.
            for (int i = 0; i < n; i++)
            {
                Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-6 * Math.Abs(expected[i]) + 1e-5 * LearningRate * step),
                    $"{what}: element {i}");
            }

            if (copy is not null)
            {
                // The copy is the fp32 result rounded to nearest even: exactly what Convert makes of it.
                using DeviceTensor rounded = DeviceTensor.Allocate(copy.DType, n);
                MoeKernels.Convert(p, rounded);
                MoeTestData.AssertExact(DownloadBits(copy), DownloadBits(rounded), what + ": copy");
            }
        }
    }

    [Test]
    public void Scalar_and_device_corrections_give_the_same_bits()
    {
        const int n = 1000;
        var random = new Random(5);
        float[] initial = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] gradient = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[][] results = new float[2][];
        for (int variant = 0; variant < 2; variant++)
        {
            using DeviceTensor p = DeviceTensor.FromArray(initial, n), g = DeviceTensor.FromArray(gradient, n);
            using DeviceTensor m = DeviceTensor.Allocate(DType.Float32, n), v = DeviceTensor.Allocate(DType.Float32, n);
            using DeviceTensor corrections = DeviceTensor.Allocate(DType.Float32, 2);
            m.Zero();
            v.Zero();
            for (int step = 1; step <= 3; step++)
            {
                if (variant == 0)
                {
                    DeviceAdamW.Step(p, m, v, g, step, LearningRate, Beta1, Beta2, Epsilon, WeightDecay);
                }
                else
                {
                    corrections.CopyFrom<float>(DeviceAdamW.BiasCorrections(step, Beta1, Beta2));
                    DeviceAdamW.StepWithDeviceCorrections(p, m, v, g, corrections, LearningRate, Beta1, Beta2, Epsilon, WeightDecay);
                }
            }

            results[variant] = p.ToArray<float>();
        }

        Assert.That(results[1], Is.EqualTo(results[0]));
    }

    [Test]
    public void A_captured_step_replays_over_steps_with_device_corrections()
    {
        const int n = 777;
        var random = new Random(11);
        float[] initial = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[][] gradients = Enumerable.Range(0, 3)
            .Select(_ => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();

        // Expected: three eager steps with scalar corrections, a bf16 gradient and a bf16 copy.
        float[] expected, expectedCopy;
        using (DeviceTensor p = DeviceTensor.FromArray(initial, n), m = DeviceTensor.Allocate(DType.Float32, n),
               v = DeviceTensor.Allocate(DType.Float32, n), g = DeviceTensor.Allocate(DType.BFloat16, n),
               copy = DeviceTensor.Allocate(DType.BFloat16, n))
        {
            m.Zero();
            v.Zero();
            for (int step = 1; step <= 3; step++)
            {
                using DeviceTensor stage = DeviceTensor.FromArray(gradients[step - 1], n);
                MoeKernels.Convert(stage, g);
                DeviceAdamW.Step(p, m, v, g, step, LearningRate, Beta1, Beta2, Epsilon, WeightDecay, copy);
            }

            expected = p.ToArray<float>();
            expectedCopy = ToSingles(copy);
        }

        using var stream = CudaStream.Create();
        using DeviceTensor pg = DeviceTensor.FromArray(initial, n), mg = DeviceTensor.Allocate(DType.Float32, n),
            vg = DeviceTensor.Allocate(DType.Float32, n), gg = DeviceTensor.Allocate(DType.BFloat16, n),
            copyg = DeviceTensor.Allocate(DType.BFloat16, n), corrections = DeviceTensor.Allocate(DType.Float32, 2),
            stageg = DeviceTensor.Allocate(DType.Float32, n);
        mg.Zero();
        vg.Zero();
        CudaDevice.Synchronize();
        using CudaGraph graph = CudaGraph.Capture(stream, () =>
            DeviceAdamW.StepWithDeviceCorrections(pg, mg, vg, gg, corrections, LearningRate, Beta1, Beta2, Epsilon, WeightDecay,
                copyg, stream));
        for (int step = 1; step <= 3; step++)
        {
            stageg.CopyFrom<float>(gradients[step - 1], stream: stream);
            MoeKernels.Convert(stageg, gg, stream);
            corrections.CopyFrom<float>(DeviceAdamW.BiasCorrections(step, Beta1, Beta2), stream: stream);
            graph.Launch(stream);
            stream.Synchronize();
        }

        Assert.That(pg.ToArray<float>(), Is.EqualTo(expected), "master weights after three replays");
        Assert.That(ToSingles(copyg), Is.EqualTo(expectedCopy), "bf16 copy after three replays");
    }

    private static float[] ToSingles(DeviceTensor tensor)
    {
        using DeviceTensor f32 = DeviceTensor.Allocate(DType.Float32, tensor.ElementCount);
        MoeKernels.Convert(tensor, f32);
        return f32.ToArray<float>();
    }

    // The raw bits of a float tensor as doubles, so that AssertExact compares bit patterns of any float type.
    private static double[] DownloadBits(DeviceTensor tensor) => tensor.DType == DType.Float32
        ? tensor.ToArray<uint>().Select(b => (double)b).ToArray()
        : tensor.ToArray<ushort>().Select(b => (double)b).ToArray();
}
