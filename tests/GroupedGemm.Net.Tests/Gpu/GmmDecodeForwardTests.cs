using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Forwards and trans_b forwards of decode size with device counts: the calls cutlass-sm90's Auto can send to the decode
/// forward kernel (at most 256 rows and 1024 experts; tile_choice.h, decode_forward), and calls just past its limits,
/// which must take the grouped GEMM. The cases have experts of 0, 1, 16 and 17 or more rows (groups of 16 rows), K that
/// ends in a partial 64-deep chunk and N in a partial 32-column block, and grids whose blocks walk several column blocks
/// (decode_groups::grid_column_blocks), and run without and with accumulate against the float64 reference, into a
/// poisoned output or onto random prior values; a captured call replays with new counts.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class GmmDecodeForwardTests : GpuFixture
{
    private static readonly GemmBackend[] Backends = [GemmBackend.Auto, GemmBackend.CutlassSm90];

    /// <summary>Named routings: rows per expert, K and N.</summary>
    private static readonly (string Name, long[] Counts, int K, int N)[] Cases =
    [
        ("one token at top-8 over 128 experts", Routing.Spread(128, (3, 1), (17, 1), (40, 1), (41, 1), (64, 1), (90, 1), (101, 1), (127, 1)), 136, 264),
        ("40 rows of one expert of 8 (three groups)", Routing.Spread(8, (5, 40)), 200, 72),
        ("one expert, 17 rows", Routing.Spread(1, (0, 17)), 64, 40),
        ("16 tokens at top-2 over 8 experts, 2 live", Routing.Spread(8, (1, 16), (6, 16)), 512, 256),
        ("0, 1, 16, 17 and 33 rows over 6 experts", Routing.Spread(6, (1, 1), (2, 16), (3, 17), (5, 33)), 328, 136),
        ("one token at top-2 over 8 experts, 344 column blocks on a grid of 342 (two blocks walk two, the last partial)", Routing.Spread(8, (2, 1), (5, 1)), 72, 11000),
        ("256 rows over 1024 experts (the kernel's limits)", Routing.Spread(1024, Enumerable.Range(0, 256).Select(i => (i * 4 + 3, 1L)).ToArray()), 64, 72),
        ("256 rows over 1025 experts (past the expert limit)", Routing.Spread(1025, Enumerable.Range(0, 256).Select(i => (i * 4, 1L)).ToArray()), 64, 72),
        ("257 rows over 8 experts (past the row limit)", Routing.Spread(8, (0, 200), (4, 57)), 64, 72),
    ];

    private static IEnumerable<TestCaseData> CaseData() =>
        Cases.Select((c, i) => new TestCaseData(i).SetArgDisplayNames($"{c.Name}, m = {c.Counts.Sum()}"));

    /// <summary>Every case, both forms, every half type, with and without accumulate, on Auto and cutlass-sm90.</summary>
    [TestCaseSource(nameof(CaseData))]
    public void Decode_forward_with_device_counts_matches_reference(int index)
    {
        (string name, long[] counts, int k, int n) = Cases[index];
        AssertDeviceCountsCases(name, index, counts, k, n, Backends, [GmmForm.Forward, GmmForm.TransB]);
    }

    /// <summary>
    /// One token's rows over 128 experts (8 live, one row each), the same rows on one expert, and 40 rows over three
    /// experts, as device counts that one captured trans_b call reads on every replay.
    /// </summary>
    [Test]
    public void A_captured_decode_forward_replays_with_new_device_counts([Values(GmmForm.Forward, GmmForm.TransB)] GmmForm form)
    {
        const int Experts = 128, K = 136, N = 264, M = 40;
        long[] spread = Enumerable.Range(0, Experts).Select(e => e % 16 == 3 ? 5L : 0L).ToArray();
        long[] one = new long[Experts];
        one[77] = M;
        long[] three = new long[Experts];
        three[0] = 17;
        three[64] = 16;
        three[127] = 7;
        Random random = TestRandom.Create();
        bool transB = form == GmmForm.TransB;
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, DType.BFloat16, M, K);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, DType.BFloat16, form.B(M, Experts, K, N));
        using (a)
        using (b)
        using (CudaStream stream = CudaStream.Create())
        using (DeviceTensor counts = DeviceTensor.FromArray(spread, Experts))
        using (DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, M, N))
        {
            var options = new GmmOptions { Stream = stream };
            Context.Reserve(Experts);
            ReplayWithCounts(stream, () => Context.GmmInto(a, b, counts, output, false, transB, false, options), counts, output,
                [spread, one, three], current => CpuReference.Gmm(aRef, bRef, current, K, N, transA: false, transB: transB),
                $"decode {form}");
        }
    }
}
