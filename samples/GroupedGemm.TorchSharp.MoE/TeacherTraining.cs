using System.Globalization;
using GroupedGemm.TorchSharp.Moe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>
/// Default mode: trains the layer (grouped GEMM experts) with TorchSharp's AdamW to imitate a fixed random teacher
/// layer of the same form on fresh Gaussian tokens every step, printing the MSE loss every --log-every steps. Passes
/// (exit 0) when the mean loss of the last --log-every steps is at least --min-factor times lower than the first
/// step's loss.
/// </summary>
internal static class TeacherTraining
{
    /// <summary>Runs the training.</summary>
    /// <param name="options">The command line.</param>
    /// <returns>The exit code: 0 when the loss fell by the stated factor.</returns>
    public static int Run(SampleOptions options)
    {
        Device device = options.Device();
        ScalarType dtype = options.DType("--dtype", "float32");
        LayerShape shape = options.Shape(LayerShape.Small);
        bool gated = options.Has("--gated");
        int steps = options.Int("--steps", 300);
        int logEvery = options.Int("--log-every", 25);
        double lr = options.Double("--lr", 3e-3);
        double minFactor = options.Double("--min-factor", 3);
        torch.manual_seed(options.Int("--seed", 1234));

        using MoeFeedForwardBase teacher = shape.Create(gated, useGroupedGemm: true, dtype, device);
        using MoeFeedForwardBase student = shape.Create(gated, useGroupedGemm: true, dtype, device);
        teacher.eval();
        foreach (Parameter p in teacher.parameters()) p.requires_grad = false;
        using var optimizer = optim.AdamW(student.parameters(), lr: lr, weight_decay: 0.0);
        Console.WriteLine($"train: {(gated ? "gated" : "plain")} layer, {shape}, {dtype}, {device}, experts by {student.Path}, " +
            $"AdamW lr {lr.ToString(CultureInfo.InvariantCulture)}, {steps} steps");

        double first = double.NaN;
        double windowSum = 0;
        int windowCount = 0;
        double lastWindow = double.NaN;
        for (int step = 1; step <= steps; step++)
        {
            using DisposeScope scope = NewDisposeScope();
            Tensor x = randn([shape.Tokens, shape.EmbedDim], dtype, device);
            Tensor target;
            // x10: the teacher's output is small at this initialisation; the task must not be solved by predicting 0.
            using (no_grad()) target = teacher.forward(x) * 10;
            Tensor loss = nn.functional.mse_loss(student.forward(x).to_type(ScalarType.Float32), target.to_type(ScalarType.Float32));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            double value = loss.item<float>();
            if (step == 1) first = value;
            windowSum += value;
            windowCount++;
            if (step % logEvery == 0 || step == steps)
            {
                lastWindow = windowSum / windowCount;
                Console.WriteLine($"step {step,5}  loss {value,12:G6}  mean of last {windowCount} {lastWindow,12:G6}");
                windowSum = 0;
                windowCount = 0;
            }
        }

        double factor = first / lastWindow;
        bool pass = factor >= minFactor;
        Console.WriteLine($"train: loss {first:G6} -> {lastWindow:G6} (mean of the last window), {factor:F1}x lower; " +
            $"required {minFactor.ToString(CultureInfo.InvariantCulture)}x: {(pass ? "PASS" : "FAIL")}");
        return pass ? 0 : 1;
    }
}
