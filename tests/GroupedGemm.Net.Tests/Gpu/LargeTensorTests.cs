using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>An output with more than 2^31 elements (the case where 32-bit offsets break), checked on sampled rows.</summary>
[TestFixture]
[Category("Gpu")]
public class LargeTensorTests : GpuFixture
{
    // n = 8208 runs CUTLASS's pointer-array kernels on Hopper; n = 1408 (a multiple of 128 but not of 256, with
    // large experts) runs our contiguous kernel there, whose row offsets and TMA coordinates are its own.
    [TestCase(262_144L, 8_208L)]
    [TestCase(1_572_864L, 1_408L)]
    public void Output_beyond_2_to_the_31_elements_is_correct_on_sampled_rows(long m, long n)
    {
        const DType dtype = DType.BFloat16;
        const long k = 32;
        const int experts = 4;
        Assert.That(m * n, Is.GreaterThan(1L << 31));
        GpuGuard.RequireFreeMemory((m * n * 2) + (1L << 30));

        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, m, experts);
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, experts, k, n);
        long[] offsets = new long[experts + 1];
        for (int e = 0; e < experts; e++) offsets[e + 1] = offsets[e] + counts[e];

        // First and last rows, rows on both sides of every expert boundary, and random rows.
        var rows = new SortedSet<long> { 0, m - 1 };
        for (int e = 1; e < experts; e++)
        {
            rows.Add(Math.Max(0, offsets[e] - 1));
            rows.Add(Math.Min(m - 1, offsets[e]));
        }

        while (rows.Count < 48) rows.Add(random.NextInt64(m));

        using (a)
        using (b)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        using (DeviceTensor c = DeviceTensor.Allocate(dtype, m, n))
        {
            foreach (CountsKind kind in Enum.GetValues<CountsKind>())
            {
                foreach (GemmBackend backend in Enum.GetValues<GemmBackend>())
                {
                    DeviceTensor? dc = kind == CountsKind.Device ? deviceCounts : null;
                    c.Poison();
                    if (!Supported(backend, a, b, counts, dc, c, GmmForm.Forward, out _)) continue;
                    Run(a, b, counts, dc, c, GmmForm.Forward, accumulate: false, backend);
                    CudaDevice.Synchronize();

                    var actual = new List<double>();
                    var expected = new List<double>();
                    foreach (long row in rows)
                    {
                        actual.AddRange(DeviceData.Download(c, row * n, (int)n));
                        int expert = Array.FindLastIndex(offsets, o => o <= row);
                        expected.AddRange(ReferenceRow(aRef, bRef, row, expert, k, n));
                    }

                    AssertClose([.. actual], [.. expected], dtype, $"{backend} {kind} counts, {rows.Count} sampled rows");
                }
            }
        }
    }

    private static double[] ReferenceRow(double[] a, double[] b, long row, int expert, long k, long n)
    {
        var result = new double[n];
        for (long i = 0; i < k; i++)
        {
            double ai = a[(row * k) + i];
            long bOffset = ((expert * k) + i) * n;
            for (long j = 0; j < n; j++) result[j] += ai * b[bOffset + j];
        }

        return result;
    }
}
