using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;

namespace GroupedGemm.Bench.Running;

/// <summary>
/// The <c>--verify</c> sanity check: a shrunken copy of a problem (the same skew of counts, at most
/// <see cref="MaxRows"/> rows, K and N at most <see cref="MaxSide"/>) is run once per form, element type and series,
/// and the output is compared with the float64 CPU reference. Correctness proper is the test suite's job; this only
/// guards against timing a call that computes nonsense.
/// </summary>
internal static class Verifier
{
    private const long MaxRows = 2048;
    private const long MaxSide = 256;

    /// <summary>Relative error allowed per element type (outputs are rounded to the element type).</summary>
    public static double Bound(DType dtype) => dtype switch
    {
        DType.BFloat16 => 2e-2,
        DType.Float16 => 4e-3,
        _ => 1e-4,
    };

    /// <summary>A problem with the shape of <paramref name="p"/> scaled down, counts scaled proportionally.</summary>
    public static Problem Shrink(Problem p)
    {
        double scale = Math.Min(1.0, (double)MaxRows / p.M);
        long[] counts = p.Counts.Select(c => (long)Math.Floor(c * scale)).ToArray();
        long m = counts.Sum();
        if (m == 0)
        {
            counts[0] = 1;
            m = 1;
        }

        return p with
        {
            Id = p.Id + " (shrunk)",
            M = m,
            K = Math.Min(p.K, MaxSide),
            N = Math.Min(p.N, MaxSide),
            MaxCount = counts.Max(),
            Counts = counts,
        };
    }

    /// <summary>
    /// As <see cref="Shrink"/>, but K and N above 2·<see cref="MaxSide"/> become <see cref="MaxSide"/> + (side mod
    /// <see cref="MaxSide"/>), so they keep their remainder modulo 64, 128 and 256 (2880 → 320, 1408 → 384): the tails that
    /// tile choices and vector widths depend on (the sweep's float64 sample).
    /// </summary>
    public static Problem ShrinkKeepingTails(Problem p) =>
        Shrink(p) with { K = KeepTail(p.K), N = KeepTail(p.N) };

    private static long KeepTail(long side) => side <= 2 * MaxSide ? side : MaxSide + (side % MaxSide);

    /// <summary>Checks one output of <paramref name="workload"/> after running <paramref name="run"/>.</summary>
    public static VerifyResult Check(GroupWorkload workload, string backendName, Action run, CudaStream stream)
    {
        // 0xFF bytes are NaN in every float type: an element the call forgot to write cannot pass for a correct one.
        workload.Output.Fill(0xFF, stream);
        run();
        stream.Synchronize();
        var (a, b) = workload.Inputs(0);
        double[] reference = CpuReference.Gmm(ToDouble(a), ToDouble(b), workload.HostCounts, workload.Problem.K,
            workload.Problem.N, workload.TransA, workload.TransB);
        double error = CpuReference.RelativeError(ToDouble(workload.Output), reference);
        double bound = Bound(workload.DType);
        return new VerifyResult(workload.Problem.Id, Names.Of(workload.DType), workload.Form, backendName, error, bound,
            error <= bound);
    }

    private static double[] ToDouble(DeviceTensor t) => t.DType switch
    {
        DType.BFloat16 => CpuReference.ToDouble(t.ToArray<BFloat16>()),
        DType.Float16 => CpuReference.ToDouble(t.ToArray<Half>()),
        DType.Float32 => CpuReference.ToDouble(t.ToArray<float>()),
        _ => throw new ArgumentException($"Cannot verify a {t.DType} output.", nameof(t)),
    };
}
