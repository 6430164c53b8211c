namespace GroupedGemm.MoE.Training;

/// <summary>The sizes of a group of E experts, shared by the float64 parameters and the GPU ones.</summary>
/// <param name="Experts">Number of experts E.</param>
/// <param name="EmbedDim">Model width D.</param>
/// <param name="HiddenDim">Hidden width H.</param>
/// <param name="Gated">Whether the experts are gated (no biases, first GEMM 2H wide).</param>
internal sealed record ExpertShape(int Experts, int EmbedDim, int HiddenDim, bool Gated)
{
    /// <summary>Columns of the first GEMM: H or 2H (gate | up).</summary>
    public int FirstWidth => Gated ? 2 * HiddenDim : HiddenDim;
}
