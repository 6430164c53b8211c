namespace GroupedGemm.MoE.Training;

/// <summary>Settings of the <c>--train</c> demo.</summary>
/// <param name="Steps">AdamW steps (one fresh batch each).</param>
/// <param name="LearningRate">AdamW learning rate.</param>
/// <param name="LogEvery">Print the loss every this many steps (and at the first and last).</param>
/// <param name="AuxCoefficient">Weight of the load-balancing loss added to the mean squared error (0: none).</param>
/// <param name="ExportDirectory">Where to export the run for the PyTorch comparison (<see cref="TrainingExport"/>), or null.</param>
/// <param name="LayerDType">The GPU layer's storage type (<c>--layer-dtype</c>; float32 by default, so that the loss curve
/// stays within 1e-3 of PyTorch's float64 one).</param>
/// <param name="HostOptimizer">GPU only: the earlier path, AdamW on the host over downloaded float64 gradients
/// (<c>--host-adamw</c>), instead of the device-only step (<see cref="GpuTrainer"/>).</param>
internal sealed record TrainingOptions(int Steps, double LearningRate, int LogEvery, double AuxCoefficient, string? ExportDirectory = null,
    DType LayerDType = DType.Float32, bool HostOptimizer = false)
{
    /// <summary>Why these settings cannot run, or null when they can.</summary>
    public string? Validate()
    {
        if (Steps < 1) return $"--steps {Steps} must be at least 1.";
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) return $"--lr {LearningRate} must be a positive number.";
        if (LogEvery < 1) return $"--log-every {LogEvery} must be at least 1.";
        if (!(AuxCoefficient >= 0) || double.IsInfinity(AuxCoefficient)) return $"--aux-loss {AuxCoefficient} must be a finite number >= 0.";
        return null;
    }
}
