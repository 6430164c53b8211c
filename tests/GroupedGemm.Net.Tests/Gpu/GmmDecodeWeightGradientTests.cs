using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Weight gradients of decode size with device counts: the calls cutlass-sm90's Auto sends to the decode
/// weight-gradient kernel alone (at most 16 rows) or to that kernel beside the grouped GEMM (17 rows and more at 1-4 rows
/// per expert on average: experts of at most 16 rows on the kernel, longer ones on the GEMM; tile_choice.h,
/// decode_weight_gradient_short_rows), in both block orders. Each case puts experts on both sides of the 16-row bound
/// (0, 1, 16, 17 and many rows), K and N that end in partial tiles, and runs without and with accumulate against the
/// float64 reference, into a poisoned output or onto random prior values.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class GmmDecodeWeightGradientTests : GpuFixture
{
    private static readonly GemmBackend[] Backends = [GemmBackend.Auto, GemmBackend.CutlassSm90];

    /// <summary>Named routings: rows per expert, chosen for the side of the bound each expert falls on.</summary>
    private static readonly (string Name, long[] Counts, int K, int N)[] Cases =
    [
        // At most 16 rows: the kernel alone, experts major (below one row per expert) or mixed (16 rows over 16 experts).
        ("one token at top-8 over 40 experts", Routing.Spread(40, (3, 1), (7, 1), (11, 1), (19, 1), (20, 1), (29, 1), (37, 1), (38, 1)), 136, 264),
        ("16 rows over 16 experts, 3 empty", Routing.Spread(16, (0, 2), (1, 1), (2, 1), (4, 3), (5, 1), (6, 1), (8, 1), (9, 2), (10, 1), (12, 1), (13, 1), (14, 1)), 136, 264),
        // Beside the GEMM (1-4 rows per expert on average).
        ("153 rows over 40 experts, 3 to 6 each, 6 empty", Routing.Spread(40, Enumerable.Range(0, 40).Select(e => (e, (long)(e % 7 == 0 ? 0 : 3 + (e % 4)))).ToArray()), 136, 264),
        ("128 rows over 40 experts, one dominant expert of 116", Routing.Spread(40, (13, 116), (2, 4), (21, 1), (30, 7)), 136, 264),
        ("32 rows over 8 experts, two live experts of 16", Routing.Spread(8, (2, 16), (5, 16)), 136, 264),
        ("34 rows over 8 experts: 17, 16 and 1", Routing.Spread(8, (0, 17), (3, 16), (7, 1)), 136, 264),
        ("64 rows over 16 experts, 0 to 17 rows", Routing.Spread(16, (0, 17), (1, 9), (3, 1), (4, 12), (6, 16), (9, 5), (15, 4)), 136, 264),
        ("granite-3.0 down-projection shape, 162 rows, zipf-like", Routing.Spread(40, Enumerable.Range(0, 40).Select(e => (e, e < 20 ? 128L / (e + 2) / 2 : 0L)).ToArray()), 512, 1536),
    ];

    private static IEnumerable<TestCaseData> CaseData() =>
        Cases.Select((c, i) => new TestCaseData(i).SetArgDisplayNames($"{c.Name}, m = {c.Counts.Sum()}"));

    /// <summary>Every case, every half type, with and without accumulate, on Auto and cutlass-sm90.</summary>
    [TestCaseSource(nameof(CaseData))]
    public void Weight_gradient_with_device_counts_matches_reference(int index)
    {
        (string name, long[] counts, int k, int n) = Cases[index];
        AssertDeviceCountsCases(name, index, counts, k, n, Backends, [GmmForm.TransA]);
    }
}
