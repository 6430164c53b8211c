using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// The CPU path: the same product as the CUDA path, computed with torch's matmul one expert at a time. It gives CPU
/// code (and the CPU tests) gmm's semantics; it is a reference, not a fast kernel.
/// </summary>
internal static class CpuGmm
{
    /// <summary>Computes one validated product on the CPU.</summary>
    /// <param name="a">[M, K].</param>
    /// <param name="b">[E, K, N], [E, N, K] (transB) or [M, N] (transA).</param>
    /// <param name="counts">Rows per expert, validated.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <returns>[M, N], or [E, K, N] for transA; contiguous.</returns>
    internal static Tensor Compute(Tensor a, Tensor b, long[] counts, bool transA, bool transB)
    {
        using DisposeScope scope = NewDisposeScope();
        var parts = new List<Tensor>(counts.Length);
        long row = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            Tensor rows = a.narrow(0, row, counts[e]);
            if (transA)
            {
                // [K, m_e] · [m_e, N]: an expert without rows gets zeros, as on the GPU.
                parts.Add(rows.t().matmul(b.narrow(0, row, counts[e])));
            }
            else
            {
                Tensor weight = b.select(0, e);
                parts.Add(rows.matmul(transB ? weight.t() : weight));
            }

            row += counts[e];
        }

        Tensor result = transA ? stack(parts) : cat(parts, 0);
        return result.contiguous().MoveToOuterDisposeScope();
    }
}
