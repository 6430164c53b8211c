namespace GroupedGemm.MoE.Training;

/// <summary>
/// What one float64 forward of <see cref="ReferenceMoe"/> computed and what its backward needs. Slot s = t·k + j is
/// token t's j-th choice; slot arrays are indexed by slot id, row-major.
/// </summary>
internal sealed class MoeForwardState
{
    /// <summary>Allocates the state of a forward over <paramref name="tokens"/> tokens of input <paramref name="x"/> [T, D].</summary>
    public MoeForwardState(ReferenceMoeConfig config, int tokens, double[] x)
    {
        int slots = tokens * config.TopK, shared = config.NumShared * tokens;
        Tokens = tokens;
        X = x;
        Output = new double[(long)tokens * config.EmbedDim];
        Probabilities = new double[(long)tokens * config.NumExperts];
        Chosen = new int[slots];
        Weights = new double[slots];
        SortedSlots = new int[slots];
        Counts = new long[config.NumExperts];
        SlotFirst = new double[(long)slots * config.FirstWidth];
        SlotHidden = new double[(long)slots * config.HiddenDim];
        SlotOutput = new double[(long)slots * config.EmbedDim];
        SharedFirst = new double[(long)shared * config.FirstWidth];
        SharedHidden = new double[(long)shared * config.HiddenDim];
        ExpertFraction = new double[config.NumExperts];
        MeanProbability = new double[config.NumExperts];
    }

    /// <summary>Tokens T.</summary>
    public int Tokens { get; }

    /// <summary>The input x [T, D] (not copied: the caller must not change it before backward).</summary>
    public double[] X { get; }

    /// <summary>The layer output [T, D].</summary>
    public double[] Output { get; }

    /// <summary>Softmax router probabilities p [T, E].</summary>
    public double[] Probabilities { get; }

    /// <summary>Chosen experts [T, k], by descending probability, ties to the lower expert index.</summary>
    public int[] Chosen { get; }

    /// <summary>Combine weights [T, k]: the chosen probabilities, renormalised to sum to 1 when configured.</summary>
    public double[] Weights { get; }

    /// <summary>Slot ids sorted by expert (stable: ascending slot id within an expert), the dispatch order.</summary>
    public int[] SortedSlots { get; }

    /// <summary>Slots per expert [E].</summary>
    public long[] Counts { get; }

    /// <summary>Per-slot first GEMM output [T·k, F] (bias added).</summary>
    public double[] SlotFirst { get; }

    /// <summary>Per-slot hidden [T·k, H].</summary>
    public double[] SlotHidden { get; }

    /// <summary>Per-slot expert output y [T·k, D] (before the combine weight).</summary>
    public double[] SlotOutput { get; }

    /// <summary>Shared experts' first GEMM output [S, T, F].</summary>
    public double[] SharedFirst { get; }

    /// <summary>Shared experts' hidden [S, T, H].</summary>
    public double[] SharedHidden { get; }

    /// <summary>f_e: fraction of the T·k slots routed to expert e (sums to 1).</summary>
    public double[] ExpertFraction { get; }

    /// <summary>P_e: the router probability of expert e averaged over tokens.</summary>
    public double[] MeanProbability { get; }

    /// <summary>The Switch-style load-balancing loss E · Σ_e f_e · P_e (1 at perfect balance), unscaled.</summary>
    public double AuxLoss { get; set; }
}
