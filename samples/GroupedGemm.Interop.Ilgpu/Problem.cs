namespace GroupedGemm.Interop.Ilgpu;

/// <summary>
/// The grouped GEMM the sample runs: uneven routing with an empty expert (1) and a one-row expert (5), K and N
/// multiples of 8 (the CUTLASS kernels' 16-byte accesses), and the float64 references, computed once from the
/// values the fill kernel writes (the same in bf16 and fp16: every level is exact in both).
/// </summary>
internal sealed class Problem
{
    /// <summary>Rows per expert; sums to <see cref="M"/>.</summary>
    public static readonly long[] Counts = [130, 0, 257, 61, 200, 1, 99, 252];

    /// <summary>Columns of x.</summary>
    public const long K = 256;

    /// <summary>Columns of y.</summary>
    public const long N = 384;

    /// <summary>Seeds of the filled tensors.</summary>
    public const uint SeedX = 1, SeedW = 2, SeedWt = 3, SeedDy = 4;

    /// <summary>Rows of x and y.</summary>
    public static long M => Counts.Sum();

    /// <summary>Experts.</summary>
    public static long E => Counts.Length;

    /// <summary>Forward reference: x [M, K] · w [E, K, N] → [M, N].</summary>
    public double[] Forward { get; }

    /// <summary>trans_b reference: x [M, K] · wtᵀ with wt [E, N, K] → [M, N].</summary>
    public double[] TransB { get; }

    /// <summary>Weight-gradient reference: c[e] = x_eᵀ · dy_e → [E, K, N] (zeros for the empty expert).</summary>
    public double[] WeightGradient { get; }

    /// <summary>Computes the three references in float64.</summary>
    public Problem()
    {
        double[] x = HashedValues.Expected(SeedX, M * K);
        Forward = CpuReference.Gmm(x, HashedValues.Expected(SeedW, E * K * N), Counts, K, N);
        TransB = CpuReference.Gmm(x, HashedValues.Expected(SeedWt, E * N * K), Counts, K, N, transB: true);
        WeightGradient = CpuReference.Gmm(x, HashedValues.Expected(SeedDy, M * N), Counts, K, N, transA: true);
    }

    /// <summary>The bound on ‖out − ref‖ / ‖ref‖ the test suite uses (tests/…/Support/DeviceData.cs).</summary>
    /// <param name="dtype">BFloat16 or Float16.</param>
    /// <returns>1.5e-2 for bf16, 5e-3 for fp16.</returns>
    public static double Tolerance(DType dtype) => dtype == DType.BFloat16 ? 1.5e-2 : 5e-3;
}
