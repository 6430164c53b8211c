namespace GroupedGemm.MoE.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter; PyTorch's torch.optim.AdamW update order): decoupled weight decay θ ← θ − lr·λ·θ,
/// then m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², θ ← θ − lr · (m / (1 − β1ᵗ)) / (sqrt(v / (1 − β2ᵗ)) + ε).
/// Defaults β1 0.9, β2 0.999, ε 1e-8, λ 0.01 (PyTorch's), applied to every tensor, biases and router included.
/// </summary>
internal sealed class AdamW
{
    private readonly IReadOnlyList<(string Name, double[] Values)> _parameters;
    private readonly double[][] _m, _v;
    private int _step;

    /// <summary>An optimiser over <paramref name="parameters"/> (updated in place).</summary>
    public AdamW(IReadOnlyList<(string Name, double[] Values)> parameters, double learningRate,
        double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
    {
        if (!(learningRate > 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "must be positive.");
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "must be in [0, 1).");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "must be in [0, 1).");
        _parameters = parameters;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _m = parameters.Select(p => new double[p.Values.LongLength]).ToArray();
        _v = parameters.Select(p => new double[p.Values.LongLength]).ToArray();
    }

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>First-moment decay β1.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay β2.</summary>
    public double Beta2 { get; }

    /// <summary>ε added to the root of the second moment.</summary>
    public double Epsilon { get; }

    /// <summary>Decoupled weight decay λ.</summary>
    public double WeightDecay { get; }

    /// <summary>One update with <paramref name="gradients"/>, in the same order and shapes as the parameters.</summary>
    public void Step(IReadOnlyList<(string Name, double[] Values)> gradients)
    {
        if (gradients.Count != _parameters.Count)
            throw new ArgumentException($"{gradients.Count} gradient tensors for {_parameters.Count} parameters.", nameof(gradients));
        _step++;
        double correction1 = 1 - Math.Pow(Beta1, _step), correction2 = 1 - Math.Pow(Beta2, _step);
        for (int i = 0; i < _parameters.Count; i++)
        {
            double[] p = _parameters[i].Values, g = gradients[i].Values, m = _m[i], v = _v[i];
            if (g.LongLength != p.LongLength)
                throw new ArgumentException($"Gradient '{gradients[i].Name}' has {g.LongLength} values, parameter '{_parameters[i].Name}' {p.LongLength}.", nameof(gradients));
            for (long j = 0; j < p.LongLength; j++)
            {
                p[j] -= LearningRate * WeightDecay * p[j];
                m[j] = Beta1 * m[j] + (1 - Beta1) * g[j];
                v[j] = Beta2 * v[j] + (1 - Beta2) * g[j] * g[j];
                p[j] -= LearningRate * (m[j] / correction1) / (Math.Sqrt(v[j] / correction2) + Epsilon);
            }
        }
    }
}
