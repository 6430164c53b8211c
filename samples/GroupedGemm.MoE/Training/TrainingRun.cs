using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace GroupedGemm.MoE.Training;

/// <summary>
/// The <c>--train</c> demo: a student MoE layer (the sample's layer from <c>--seed</c>, on the small CPU configuration)
/// learns a fixed random teacher MoE of the same shape (drawn from another seed) by mean squared error on fresh
/// uniform [-1, 1) batches, with AdamW and the optional load-balancing loss. By default it runs the float64 CPU layer;
/// with <c>--device gpu</c> the whole step runs on the GPU (<see cref="GpuTrainer"/>: forward, MSE, backward and the
/// AdamW kernel, batches uploaded once before the first step), in float32 or, with <c>--layer-dtype</c>, bf16 or fp16
/// with float32 master weights; the loss is read back only on logged steps, or every step with <c>--export</c>
/// (the export records it). <c>--host-adamw</c> keeps the earlier GPU path: AdamW on the host over downloaded gradients.
/// </summary>
internal static class TrainingRun
{
    /// <summary>The held-out loss must fall by at least this factor over a run of <see cref="FactorFromSteps"/> steps or more.</summary>
    public const double RequiredFactor = 1.5;

    /// <summary>Runs shorter than this only need the held-out loss to fall at all.</summary>
    public const int FactorFromSteps = 50;

    /// <summary>Trains and reports; returns 0 when the held-out loss fell as required, 1 otherwise.</summary>
    public static int Run(MoeOptions requested, TrainingOptions training, string? gpuUnavailableReason, bool onGpu)
    {
        if (onGpu && gpuUnavailableReason is not null)
        {
            AnsiConsole.MarkupLine("[red]--device gpu: no usable GPU.[/]");
            AnsiConsole.WriteLine(gpuUnavailableReason);
            return 2;
        }

        if (onGpu)
        {
            AnsiConsole.MarkupLine(training.HostOptimizer
                ? $"[yellow]Training on the GPU ({training.LayerDType} forward and backward; AdamW on the host over downloaded gradients).[/]"
                : $"[yellow]Training on the GPU only ({training.LayerDType} layer, float32 master weights, the AdamW kernel; " +
                  "the loss is read back on logged steps" + (training.ExportDirectory is null ? "" : " and, for the export, every step") + ").[/]");
        }
        else if (gpuUnavailableReason is null)
        {
            AnsiConsole.MarkupLine("[yellow]Training the float64 CPU layer (--device gpu trains on the GPU).[/]");
        }
        else
        {
            AnsiConsole.MarkupLine("[yellow]No usable GPU; training the float64 CPU layer.[/]");
            AnsiConsole.WriteLine(gpuUnavailableReason);
        }

        MoeOptions o = requested.SmallCpuConfiguration();
        if (o.Routing != Routing.Uniform) AnsiConsole.MarkupLine("[yellow]--routing zipf is ignored by --train (the router alone routes).[/]");
        var config = ReferenceMoeConfig.From(o);
        var student = new ReferenceMoe(MoeParameters.FromSeed(config, o.Seed, o.DType));
        var teacher = new ReferenceMoe(MoeParameters.FromSeed(config, unchecked(o.Seed + 7919), o.DType));
        var optimizer = new AdamW(student.Parameters.Tensors(), training.LearningRate);
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(o.Describe())}[/]");
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Teacher: same shape, seed {unchecked(o.Seed + 7919)}. Loss: MSE + {training.AuxCoefficient} × load-balancing loss. " +
            $"AdamW lr {optimizer.LearningRate}, β1 {optimizer.Beta1}, β2 {optimizer.Beta2}, ε {optimizer.Epsilon}, weight decay {optimizer.WeightDecay}; " +
            $"{training.Steps} steps of {o.Tokens} fresh tokens."));

        using TrainingExport? export = training.ExportDirectory is null
            ? null
            : new TrainingExport(training.ExportDirectory, config, o.Tokens, training, optimizer);
        export?.AddParameters("student", student.Parameters);
        export?.AddParameters("teacher", teacher.Parameters);

        var data = new Random(unchecked(o.Seed + 2));
        (double[] evalX, double[] evalTarget) = Batch(teacher, data, o.Tokens);
        double evalBefore = MeanSquaredError(student.Forward(evalX, o.Tokens).Output, evalTarget, null);
        export?.AddEvaluationBatch(evalX, o.Tokens, config.EmbedDim);

        using GroupedGemmContext? context = onGpu ? new GroupedGemmContext(0) : null;
        using GpuMoeLayer? gpu = context is null ? null : new GpuMoeLayer(context, student.Parameters, training.LayerDType);
        var watch = Stopwatch.StartNew();
        double first = double.NaN, last = double.NaN;
        if (gpu is not null && !training.HostOptimizer)
        {
            (first, last) = DeviceLoop(gpu, student, teacher, data, o.Tokens, training, optimizer, export);
        }
        else
        {
            for (int step = 1; step <= training.Steps; step++)
            {
                (double[] x, double[] target) = Batch(teacher, data, o.Tokens);
                export?.AddBatch(step, x, o.Tokens, config.EmbedDim);
                (double mse, double aux, MoeParameters grads) = gpu is null
                    ? CpuStep(student, x, target, o.Tokens, training.AuxCoefficient)
                    : GpuStep(gpu, x, target, o.Tokens, training.AuxCoefficient);
                optimizer.Step(grads.Tensors());
                gpu?.Load(student.Parameters);
                export?.AddLoss(step, mse, aux);
                if (step == 1) first = mse;
                last = mse;
                if (Logged(step, training)) Log(step, mse, aux);
            }
        }

        watch.Stop();
        double evalAfter = MeanSquaredError(student.Forward(evalX, o.Tokens).Output, evalTarget, null);
        export?.Finish(evalBefore, evalAfter);
        double ratio = evalBefore / evalAfter;
        double needed = training.Steps >= FactorFromSteps ? RequiredFactor : 1;
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training mse first/last: {first:E4} / {last:E4} = {first / last:F2}×; held-out mse before/after: " +
            $"{evalBefore:E4} / {evalAfter:E4} = {ratio:F2}× ({watch.Elapsed.TotalSeconds:F2} s)"));
        if (ratio > needed)
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[green]The held-out loss fell by more than {needed}×.[/]"));
            return 0;
        }

        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[red]The held-out loss fell by {ratio:F2}×, not more than the required {needed}× " +
            $"({RequiredFactor}× from {FactorFromSteps} steps on).[/]"));
        return 1;
    }

    /// <summary>
    /// The device-only loop (<see cref="GpuTrainer"/>): the batches are drawn in the same order as the host loop's and
    /// uploaded once; the loss is read back on logged steps (every step when exporting); at the end the float32 master
    /// weights come back into <paramref name="student"/> for the held-out evaluation. Returns the first and last MSE.
    /// </summary>
    private static (double First, double Last) DeviceLoop(GpuMoeLayer gpu, ReferenceMoe student, ReferenceMoe teacher, Random data,
        int tokens, TrainingOptions training, AdamW optimizer, TrainingExport? export)
    {
        int d = student.Config.EmbedDim;
        long batch = (long)tokens * d;
        var xs = new double[training.Steps * batch];
        var targets = new double[training.Steps * batch];
        for (int step = 1; step <= training.Steps; step++)
        {
            (double[] x, double[] target) = Batch(teacher, data, tokens);
            export?.AddBatch(step, x, tokens, d);
            x.CopyTo(xs, (step - 1) * batch);
            target.CopyTo(targets, (step - 1) * batch);
        }

        using var trainer = new GpuTrainer(gpu, tokens, xs, targets, training.Steps, optimizer, training.AuxCoefficient);
        double first = double.NaN, last = double.NaN;
        long allocations = -1;
        for (int step = 1; step <= training.Steps; step++)
        {
            trainer.Step(step - 1);
            if (step == 2) allocations = trainer.StepAllocations;
            if (export is null && !Logged(step, training)) continue;
            (double mse, double aux) = trainer.ReadLoss();
            export?.AddLoss(step, mse, aux);
            if (step == 1) first = mse;
            last = mse;
            if (Logged(step, training)) Log(step, mse, aux);
        }

        if (allocations >= 0 && trainer.StepAllocations != allocations)
            AnsiConsole.MarkupLine($"[red]The step allocated device memory after the second step ({allocations} → {trainer.StepAllocations}).[/]");
        trainer.Download(student.Parameters);
        return (first, last);
    }

    private static bool Logged(int step, TrainingOptions training) =>
        step == 1 || step % training.LogEvery == 0 || step == training.Steps;

    private static void Log(int step, double mse, double aux) =>
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step,5}  mse {mse:E4}  aux {aux:F4}"));

    /// <summary>One float64 CPU step: the batch's MSE, the load-balancing loss and the gradients.</summary>
    private static (double Mse, double Aux, MoeParameters Gradients) CpuStep(ReferenceMoe student, double[] x, double[] target,
        int tokens, double auxCoefficient)
    {
        MoeForwardState state = student.Forward(x, tokens);
        var dOutput = new double[state.Output.Length];
        double mse = MeanSquaredError(state.Output, target, dOutput);
        (MoeParameters grads, _) = student.Backward(state, dOutput, auxCoefficient);
        return (mse, state.AuxLoss, grads);
    }

    /// <summary>One GPU step (forward and backward on the device, the MSE and its gradient on the host).</summary>
    private static (double Mse, double Aux, MoeParameters Gradients) GpuStep(GpuMoeLayer layer, double[] x, double[] target,
        int tokens, double auxCoefficient)
    {
        using GpuMoeStep step = layer.Forward(x, tokens);
        double[] output = DeviceScratch.Download(step.Output);
        var dOutput = new double[output.Length];
        double mse = MeanSquaredError(output, target, dOutput);
        (MoeParameters grads, _) = step.Backward(dOutput, auxCoefficient);
        return (mse, step.AuxLoss, grads);
    }

    /// <summary>A fresh batch x [T, D] uniform in [-1, 1) and the teacher's output on it.</summary>
    private static (double[] X, double[] Target) Batch(ReferenceMoe teacher, Random random, int tokens)
    {
        var x = new double[(long)tokens * teacher.Config.EmbedDim];
        for (long i = 0; i < x.LongLength; i++) x[i] = random.NextDouble() * 2 - 1;
        return (x, teacher.Forward(x, tokens).Output);
    }

    /// <summary>mean((output − target)²); fills its gradient with respect to output into <paramref name="gradient"/> when given.</summary>
    private static double MeanSquaredError(double[] output, double[] target, double[]? gradient)
    {
        double sum = 0;
        for (long i = 0; i < output.LongLength; i++)
        {
            double d = output[i] - target[i];
            sum += d * d;
            if (gradient is not null) gradient[i] = 2 * d / output.LongLength;
        }

        return sum / output.LongLength;
    }
}
