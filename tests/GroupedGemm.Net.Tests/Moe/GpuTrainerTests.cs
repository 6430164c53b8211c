using GroupedGemm.MoE.Training;
using GroupedGemm.Tests.Gpu;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// The sample's device-only training step (<see cref="GpuTrainer"/>: forward, the MSE on MoE kernels, backward, the
/// AdamW kernel) against the earlier GPU path (the same forward and backward, the MSE and float64 AdamW on the host
/// over downloaded gradients): the same losses and, after a few steps, the same weights; and a bf16 layer whose loss
/// falls on a batch it sees repeatedly, with no device allocation after the first step.
/// </summary>
[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class GpuTrainerTests : GpuFixture
{
    private const int Tokens = 16;
    private const double LearningRate = 3e-3, AuxCoefficient = 0.01;

    private static readonly ReferenceMoeConfig[] Configs =
    [
        new(EmbedDim: 32, HiddenDim: 48, NumExperts: 6, TopK: 2, NumShared: 1, Gated: false, Activation.Gelu, Renormalize: false),
        new(EmbedDim: 32, HiddenDim: 40, NumExperts: 5, TopK: 2, NumShared: 1, Gated: true, Activation.Silu, Renormalize: true),
    ];

    [Test]
    public void Device_steps_match_the_host_optimiser_path([ValueSource(nameof(Configs))] ReferenceMoeConfig config)
    {
        const int steps = 3;
        MoeParameters initial = MoeParameters.FromSeed(config, 77, DType.Float32);
        (double[] xs, double[] targets) = Batches(config, steps, seed: 78);
        int d = config.EmbedDim;
        long batch = (long)Tokens * d;

        // The earlier path: GPU forward and backward, MSE and float64 AdamW on the host.
        var host = new ReferenceMoe(MoeParameters.FromSeed(config, 77, DType.Float32));
        var hostOptimizer = new AdamW(host.Parameters.Tensors(), LearningRate);
        using var hostLayer = new GpuMoeLayer(Context, host.Parameters);
        var hostLosses = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            double[] x = xs.AsSpan((int)(s * batch), (int)batch).ToArray(), target = targets.AsSpan((int)(s * batch), (int)batch).ToArray();
            using GpuMoeStep step = hostLayer.Forward(x, Tokens);
            double[] output = DeviceScratch.Download(step.Output);
            var dOutput = new double[output.Length];
            for (int i = 0; i < output.Length; i++)
            {
                double diff = output[i] - target[i];
                hostLosses[s] += diff * diff / output.Length;
                dOutput[i] = 2 * diff / output.Length;
            }

            (MoeParameters grads, _) = step.Backward(dOutput, AuxCoefficient);
            hostOptimizer.Step(grads.Tensors());
            hostLayer.Load(host.Parameters);
        }

        // The device-only path.
        using var layer = new GpuMoeLayer(Context, initial);
        using var trainer = new GpuTrainer(layer, Tokens, xs, targets, steps, new AdamW(initial.Tensors(), LearningRate), AuxCoefficient);
        for (int s = 0; s < steps; s++)
        {
            trainer.Step(s);
            (double mse, double aux) = trainer.ReadLoss();
            Assert.That(mse, Is.EqualTo(hostLosses[s]).Within(1e-5 * hostLosses[s]), $"{config}: MSE of step {s + 1}");
            Assert.That(double.IsFinite(aux), Is.True, "aux loss");
        }

        var trained = new MoeParameters(config);
        trainer.Download(trained);
        foreach (((string name, double[] got), (_, double[] want)) in trained.Tensors().Zip(host.Parameters.Tensors()))
            MoeTestData.AssertClose(got, want, 1e-5, $"{config}: {name} after {steps} steps");
    }

    [Test]
    public void A_bf16_layer_learns_a_repeated_batch_without_allocating([ValueSource(nameof(Configs))] ReferenceMoeConfig config)
    {
        const int steps = 40;
        MoeParameters initial = MoeParameters.FromSeed(config, 91, DType.BFloat16);
        (double[] x, double[] target) = Batches(config, 1, seed: 92);
        double[] xs = Enumerable.Repeat(x, steps).SelectMany(v => v).ToArray();
        double[] targets = Enumerable.Repeat(target, steps).SelectMany(v => v).ToArray();
        using var layer = new GpuMoeLayer(Context, initial, DType.BFloat16);
        using var trainer = new GpuTrainer(layer, Tokens, xs, targets, steps, new AdamW(initial.Tensors(), 1e-2), AuxCoefficient);
        trainer.Step(0);
        (double first, _) = trainer.ReadLoss();
        trainer.Step(1);
        long allocations = trainer.StepAllocations;
        for (int s = 2; s < steps; s++) trainer.Step(s);
        (double last, double aux) = trainer.ReadLoss();
        Assert.That(trainer.StepAllocations, Is.EqualTo(allocations), "the step allocated device memory after the second step");
        Assert.That(double.IsFinite(last) && double.IsFinite(aux), Is.True, $"loss {last}, aux {aux}");
        Assert.That(last, Is.LessThan(first / 2), $"{config}: MSE {first} → {last} over {steps} steps");
    }

    // Batches x uniform in [-1, 1) and targets uniform in [-0.5, 0.5), [steps · Tokens, D] each.
    private static (double[] Xs, double[] Targets) Batches(ReferenceMoeConfig config, int steps, int seed)
    {
        var random = new Random(seed);
        long count = (long)steps * Tokens * config.EmbedDim;
        double[] xs = new double[count], targets = new double[count];
        for (long i = 0; i < count; i++)
        {
            xs[i] = random.NextDouble() * 2 - 1;
            targets[i] = random.NextDouble() - 0.5;
        }

        return (xs, targets);
    }
}
