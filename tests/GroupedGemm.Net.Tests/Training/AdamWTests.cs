using GroupedGemm.MoE.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Training;

/// <summary>The sample's AdamW against hand-computed PyTorch-order updates.</summary>
[TestFixture]
internal sealed class AdamWTests
{
    [Test]
    public void Two_steps_follow_decoupled_decay_then_bias_corrected_moments()
    {
        double[] p = [1.0, -2.0];
        var optimizer = new AdamW([("p", p)], learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01);
        optimizer.Step([("g", new[] { 0.5, -4.0 })]);
        optimizer.Step([("g", new[] { 0.25, 2.0 })]);

        double[] expected = new double[2];
        double[][] gs = [[0.5, -4.0], [0.25, 2.0]];
        for (int i = 0; i < 2; i++)
        {
            double theta = i == 0 ? 1.0 : -2.0, m = 0, v = 0;
            for (int t = 1; t <= 2; t++)
            {
                double g = gs[t - 1][i];
                theta *= 1 - 0.1 * 0.01;
                m = 0.9 * m + 0.1 * g;
                v = 0.999 * v + 0.001 * g * g;
                theta -= 0.1 * (m / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, t))) + 1e-8);
            }

            expected[i] = theta;
        }

        Assert.That(p, Is.EqualTo(expected).Within(1e-15));
    }

    [Test]
    public void Mismatched_gradients_are_refused_with_their_names()
    {
        var optimizer = new AdamW([("p", new double[3])], learningRate: 0.1);
        var error = Assert.Throws<ArgumentException>(() => optimizer.Step([("g", new double[2])]));
        Assert.That(error!.Message, Does.Contain("'g'").And.Contain("'p'"));
    }
}
