using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class SortByExpertTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    // E = 9000 exceeds the per-block shared histogram (8192 bins) and uses global atomics.
    [TestCase(1, 1)]
    [TestCase(1000, 1)]
    [TestCase(16384, 80)]
    [TestCase(4097, 7)]
    [TestCase(20000, 9000)]
    [TestCase(0, 5)]
    public void Matches_stable_reference(int slots, int experts)
    {
        Random random = MoeTestData.NewRandom();
        int[] ids = Enumerable.Range(0, slots).Select(_ => random.Next(experts)).ToArray();
        Check(ids, experts);
    }

    [Test]
    public void Out_of_range_ids_sort_last_and_are_not_counted()
    {
        Random random = MoeTestData.NewRandom();
        const int experts = 16;
        int[] ids = Enumerable.Range(0, 3000).Select(_ => random.Next(-2, experts + 3)).ToArray();
        Check(ids, experts);
    }

    private static void Check(int[] ids, int experts)
    {
        int slots = ids.Length;
        using DeviceTensor idsOnDevice = slots == 0 ? DeviceTensor.Allocate(DType.Int32, 0) : DeviceTensor.FromArray(ids, slots);
        using DeviceTensor counts = MoeTestData.Poisoned(DType.Int64, experts);
        using DeviceTensor sortedSlots = MoeTestData.Poisoned(DType.Int32, slots);
        using DeviceTensor slotRows = MoeTestData.Poisoned(DType.Int32, slots);
        using DeviceTensor workspace = MoeKernels.AllocateSortWorkspace(slots, experts);

        MoeKernels.SortByExpert(idsOnDevice, counts, sortedSlots, slotRows, workspace);
        (long[] refCounts, int[] refSorted, int[] refRows) = MoeReference.SortByExpert(ids, experts);

        Assert.That(counts.ToArray<long>(), Is.EqualTo(refCounts), "counts");
        Assert.That(sortedSlots.ToArray<int>(), Is.EqualTo(refSorted), "sorted slots");
        Assert.That(slotRows.ToArray<int>(), Is.EqualTo(refRows), "slot rows");
    }
}
