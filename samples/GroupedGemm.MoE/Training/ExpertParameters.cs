namespace GroupedGemm.MoE.Training;

/// <summary>
/// Float64 parameters (or their gradients) of E experts, laid out as the sample's <see cref="ExpertFeedForward"/>:
/// W1 [E, D, F], B1 [E, F], W2 [E, H, D], B2 [E, D], F = H (plain) or 2H (gated, gate | up; no biases).
/// </summary>
internal sealed class ExpertParameters
{
    /// <summary>Zero-filled parameters of <paramref name="experts"/> experts.</summary>
    public ExpertParameters(int experts, int embedDim, int hiddenDim, bool gated)
    {
        Shape = new ExpertShape(experts, embedDim, hiddenDim, gated);
        W1 = new double[(long)experts * embedDim * FirstWidth];
        W2 = new double[(long)experts * hiddenDim * embedDim];
        if (gated) return;
        B1 = new double[(long)experts * FirstWidth];
        B2 = new double[(long)experts * embedDim];
    }

    /// <summary>The sizes.</summary>
    public ExpertShape Shape { get; }

    /// <summary>Number of experts E.</summary>
    public int Experts => Shape.Experts;

    /// <summary>Model width D.</summary>
    public int EmbedDim => Shape.EmbedDim;

    /// <summary>Hidden width H.</summary>
    public int HiddenDim => Shape.HiddenDim;

    /// <summary>Whether the experts are gated (no biases, first GEMM 2H wide).</summary>
    public bool Gated => Shape.Gated;

    /// <summary>Columns of the first GEMM: H or 2H.</summary>
    public int FirstWidth => Shape.FirstWidth;

    /// <summary>W1 [E, D, F].</summary>
    public double[] W1 { get; }

    /// <summary>B1 [E, F], null for gated experts.</summary>
    public double[]? B1 { get; }

    /// <summary>W2 [E, H, D].</summary>
    public double[] W2 { get; }

    /// <summary>B2 [E, D], null for gated experts.</summary>
    public double[]? B2 { get; }

    /// <summary>
    /// Draws the parameters exactly as <see cref="ExpertFeedForward"/>'s constructor does (same order, bounds and
    /// rounding to <paramref name="dtype"/>), so that a layer built from the same seed has the sample's values.
    /// </summary>
    public static ExpertParameters FromRandom(int experts, int embedDim, int hiddenDim, bool gated, Random random, DType dtype)
    {
        var p = new ExpertParameters(experts, embedDim, hiddenDim, gated);
        double bound1 = 1 / Math.Sqrt(embedDim), bound2 = 1 / Math.Sqrt(hiddenDim);
        Fill(p.W1, HostValues.Uniform(random, p.W1.LongLength, bound1, dtype));
        if (p.B1 is not null) Fill(p.B1, HostValues.Uniform(random, p.B1.LongLength, bound1, dtype));
        Fill(p.W2, HostValues.Uniform(random, p.W2.LongLength, bound2, dtype));
        if (p.B2 is not null) Fill(p.B2, HostValues.Uniform(random, p.B2.LongLength, bound2, dtype));
        return p;
    }

    /// <summary>The tensors by name (prefix + "w1", ...), for the optimiser and the finite-difference check.</summary>
    public IEnumerable<(string Name, double[] Values)> Tensors(string prefix) =>
        ShapedTensors(prefix).Select(t => (t.Name, t.Values));

    /// <summary>The tensors by name with their extents (the layout above), for exports that must say them.</summary>
    public IEnumerable<(string Name, double[] Values, long[] Shape)> ShapedTensors(string prefix)
    {
        yield return (prefix + "w1", W1, [Experts, EmbedDim, FirstWidth]);
        if (B1 is not null) yield return (prefix + "b1", B1, [Experts, FirstWidth]);
        yield return (prefix + "w2", W2, [Experts, HiddenDim, EmbedDim]);
        if (B2 is not null) yield return (prefix + "b2", B2, [Experts, EmbedDim]);
    }

    private static void Fill(double[] target, float[] source)
    {
        for (long i = 0; i < target.LongLength; i++) target[i] = source[i];
    }
}
