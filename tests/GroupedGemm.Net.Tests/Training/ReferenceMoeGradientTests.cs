using GroupedGemm.MoE;
using GroupedGemm.MoE.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Training;

/// <summary>
/// The float64 MoE backward (samples/GroupedGemm.MoE/Training) against central differences of its own forward, on
/// 6 tokens, D 8, H 12, E 4, top-2, one shared expert: every parameter tensor, x, and the load-balancing loss.
/// Bound: ‖analytic − numeric‖₂ ≤ 1e-6 · ‖numeric‖₂ + 1e-9 per tensor (step 1e-5: truncation ~1e-10 relative,
/// rounding ~1e-16 · |L| / 1e-5 ~ 1e-10 per element; the floor covers tensors whose gradient is exactly zero).
/// </summary>
[TestFixture]
internal sealed class ReferenceMoeGradientTests
{
    private const int Tokens = 6;
    private const double Step = 1e-5, Relative = 1e-6, Floor = 1e-9;

    private static readonly object[] Forms =
    [
        new object[] { false, Activation.Gelu },
        new object[] { false, Activation.Silu },
        new object[] { false, Activation.Relu },
        new object[] { true, Activation.Silu },
    ];

    [TestCaseSource(nameof(Forms))]
    public void Every_gradient_matches_central_differences(bool gated, Activation activation)
    {
        foreach (bool renormalize in new[] { false, true })
        {
            var config = new ReferenceMoeConfig(8, 12, 4, 2, 1, gated, activation, renormalize);
            // A large aux coefficient so that its gradient weighs as much as the output's in the router's and x's.
            CheckAll(TrainingCase.Draw(config, Tokens, seed: 11), auxCoefficient: 0.5, $"{config}");
        }
    }

    [Test]
    public void Load_balancing_loss_alone_has_the_gradient_of_its_central_differences()
    {
        var config = new ReferenceMoeConfig(8, 12, 4, 2, 1, false, Activation.Gelu, false);
        TrainingCase c = TrainingCase.Draw(config, Tokens, seed: 5);
        // Zero output weights: only the aux loss remains, through the router probabilities (f_e constant).
        CheckAll(c with { OutputWeights = new double[c.OutputWeights.Length] }, auxCoefficient: 1, "aux only");
    }

    [Test]
    public void Load_balancing_loss_is_one_at_perfect_balance()
    {
        // Zero router weights: p = 1/E for every token; top-2 of 4 ties to experts 0 and 1 for every token, so f = (1/2, 1/2, 0, 0)
        // and E · Σ f_e · P_e = 4 · (1/2 · 1/4 + 1/2 · 1/4) = 1.
        var config = new ReferenceMoeConfig(8, 12, 4, 2, 0, false, Activation.Gelu, false);
        var layer = new ReferenceMoe(new MoeParameters(config));
        MoeForwardState s = layer.Forward(new double[Tokens * 8], Tokens);
        Assert.That(s.AuxLoss, Is.EqualTo(1).Within(1e-15));
        Assert.That(s.ExpertFraction, Is.EqualTo(new[] { 0.5, 0.5, 0, 0 }));
    }

    private static void CheckAll(TrainingCase c, double auxCoefficient, string label)
    {
        (_, MoeForwardState state) = c.Loss(auxCoefficient);
        int[] routing = state.Chosen.ToArray();
        var dOutput = c.OutputWeights;
        (MoeParameters grads, double[] dx) = c.Layer.Backward(state, dOutput, auxCoefficient);

        IReadOnlyList<(string Name, double[] Values)> parameters = c.Layer.Parameters.Tensors();
        IReadOnlyList<(string Name, double[] Values)> analytic = grads.Tensors();
        Assert.That(analytic.Select(a => a.Name), Is.EqualTo(parameters.Select(p => p.Name)));
        var checkedTensors = new List<string>();
        for (int i = 0; i < parameters.Count; i++)
        {
            Check(c, auxCoefficient, routing, parameters[i].Values, analytic[i].Values, $"{label}: {parameters[i].Name}");
            checkedTensors.Add(parameters[i].Name);
        }

        Check(c, auxCoefficient, routing, c.X, dx, $"{label}: x");
        string[] expected = c.Layer.Config.Gated
            ? ["router", "routed.w1", "routed.w2", "shared.w1", "shared.w2"]
            : ["router", "routed.w1", "routed.b1", "routed.w2", "routed.b2", "shared.w1", "shared.b1", "shared.w2", "shared.b2"];
        Assert.That(checkedTensors, Is.EqualTo(expected), label);
    }

    /// <summary>Central differences of the loss over every element of <paramref name="values"/> against <paramref name="analytic"/>.</summary>
    private static void Check(TrainingCase c, double auxCoefficient, int[] routing, double[] values, double[] analytic, string label)
    {
        var numeric = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved + Step;
            (double plus, MoeForwardState sPlus) = c.Loss(auxCoefficient);
            values[i] = saved - Step;
            (double minus, MoeForwardState sMinus) = c.Loss(auxCoefficient);
            values[i] = saved;
            // The routing must not move under the step, or the difference would cross the top-k's discontinuity.
            Assert.That(sPlus.Chosen, Is.EqualTo(routing), $"{label}[{i}]: routing changed under +step");
            Assert.That(sMinus.Chosen, Is.EqualTo(routing), $"{label}[{i}]: routing changed under -step");
            numeric[i] = (plus - minus) / (2 * Step);
        }

        double diff = Math.Sqrt(analytic.Zip(numeric, (a, n) => (a - n) * (a - n)).Sum());
        double norm = Math.Sqrt(numeric.Sum(n => n * n));
        Assert.That(diff, Is.LessThanOrEqualTo(Relative * norm + Floor),
            $"{label}: ‖analytic − numeric‖ {diff:E3}, ‖numeric‖ {norm:E3}, relative {diff / Math.Max(norm, 1e-300):E3}");
    }
}
