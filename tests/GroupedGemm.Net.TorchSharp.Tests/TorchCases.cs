using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>Small random problems for the three gmm forms, as float64 CPU tensors and as host arrays.</summary>
internal static class TorchCases
{
    /// <summary>Batch sizes with an empty expert in the middle, so empty groups are always covered.</summary>
    internal static readonly long[] Counts = [3, 0, 5, 2];

    internal const long K = 4;
    internal const long N = 6;

    internal static long M => Counts.Sum();

    internal static long E => Counts.Length;

    /// <summary>The shape of b for a form.</summary>
    internal static long[] BShape(bool transA, bool transB) =>
        transA ? [M, N] : transB ? [E, N, K] : [E, K, N];

    /// <summary>A reproducible float64 tensor.</summary>
    internal static Tensor Random(long seed, params long[] shape)
    {
        using Generator generator = new((ulong)seed);
        return randn(shape, ScalarType.Float64, generator: generator);
    }

    /// <summary>The batch sizes as a CPU int64 tensor.</summary>
    internal static Tensor CountsTensor(long[]? counts = null) => tensor(counts ?? Counts, ScalarType.Int64);

    /// <summary>A contiguous CPU tensor's values.</summary>
    internal static double[] Values(Tensor t) => t.contiguous().data<double>().ToArray();

    /// <summary>
    /// gmm written with torch's own differentiable ops (per-expert matmul), the reference for values and gradients.
    /// </summary>
    internal static Tensor PerExpertReference(Tensor a, Tensor b, long[] counts, bool transA, bool transB)
    {
        var parts = new List<Tensor>();
        long row = 0;
        for (int e = 0; e < counts.Length; e++)
        {
            Tensor rows = a.narrow(0, row, counts[e]);
            parts.Add(transA
                ? rows.t().matmul(b.narrow(0, row, counts[e]))
                : rows.matmul(transB ? b[e].t() : b[e]));
            row += counts[e];
        }

        return transA ? stack(parts) : cat(parts, 0);
    }
}
