namespace GroupedGemm.TorchSharp.Moe;

/// <summary>How a MoE layer computes its routed experts.</summary>
public enum MoeExpertPath
{
    /// <summary>One grouped GEMM per expert matrix over all routed rows (<see cref="GroupedGemmTorch.gmm"/>): no padding.</summary>
    GroupedGemm,

    /// <summary>
    /// The seed's earlier vectorized path: rows scattered into [E, max rows per expert, D], zero-padded, and one
    /// <c>torch.bmm</c> per expert matrix. The fallback when grouped GEMM is requested but not available.
    /// </summary>
    PaddedBmm,

    /// <summary>One torch matmul per expert (host batch sizes, so a synchronisation): a benchmark baseline only.</summary>
    PerExpertLoop,
}
