using GroupedGemm.MoE.Training;

namespace GroupedGemm.Tests.Training;

/// <summary>
/// A small random layer, input and output weighting for the finite-difference checks, drawn so that central
/// differences stay on one side of every non-differentiable point: the top-k selection (a gap between the k-th and
/// the (k+1)-th probability) and, for ReLU, the kink at zero (every pre-activation away from zero).
/// </summary>
internal sealed record TrainingCase(ReferenceMoe Layer, double[] X, int Tokens, double[] OutputWeights)
{
    /// <summary>The smallest top-k gap and |pre-activation| a drawn case must keep; far above the step's effect (~1e-5).</summary>
    public const double Margin = 1e-3;

    /// <summary>The first seeded draw (from <paramref name="seed"/> on) whose margins hold.</summary>
    public static TrainingCase Draw(ReferenceMoeConfig config, int tokens, int seed)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var layer = new ReferenceMoe(MoeParameters.FromSeed(config, seed + attempt, DType.Float32));
            var random = new Random(seed + attempt);
            double[] x = Uniform(random, tokens * config.EmbedDim);
            double[] weights = Uniform(random, tokens * config.EmbedDim);
            if (Margins(layer, layer.Forward(x, tokens)) > Margin) return new TrainingCase(layer, x, tokens, weights);
        }

        throw new InvalidOperationException($"No draw with margins above {Margin} for {config}.");
    }

    /// <summary>The scalar loss L = Σ OutputWeights ⊙ output + auxCoefficient · aux, and the forward state.</summary>
    public (double Loss, MoeForwardState State) Loss(double auxCoefficient)
    {
        MoeForwardState state = Layer.Forward(X, Tokens);
        double loss = auxCoefficient * state.AuxLoss;
        for (int i = 0; i < state.Output.Length; i++) loss += OutputWeights[i] * state.Output[i];
        return (loss, state);
    }

    /// <summary>The smallest top-k gap over tokens and, for ReLU, the smallest |pre-activation| of the used experts.</summary>
    private static double Margins(ReferenceMoe layer, MoeForwardState state)
    {
        ReferenceMoeConfig c = layer.Config;
        double margin = double.PositiveInfinity;
        for (int t = 0; t < state.Tokens; t++)
        {
            double[] sorted = state.Probabilities.AsSpan(t * c.NumExperts, c.NumExperts).ToArray().OrderDescending().ToArray();
            if (c.TopK < c.NumExperts) margin = Math.Min(margin, sorted[c.TopK - 1] - sorted[c.TopK]);
            for (int j = 1; j < c.TopK; j++) margin = Math.Min(margin, sorted[j - 1] - sorted[j]); // ties inside the top-k reorder slots
        }

        if (c.Activation == Activation.Relu)
        {
            // Only the activated columns (all of them plain; the gate half gated) have the kink.
            foreach (double[] first in new[] { state.SlotFirst, state.SharedFirst })
            {
                for (int i = 0; i < first.Length; i++)
                {
                    if (!c.Gated || i % c.FirstWidth < c.HiddenDim) margin = Math.Min(margin, Math.Abs(first[i]));
                }
            }
        }

        return margin;
    }

    private static double[] Uniform(Random random, int count)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = random.NextDouble() * 2 - 1;
        return values;
    }
}
