using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class PaddingTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    // Capacity 1000 keeps every row; 20 drops rows of the larger experts; 0 drops all.
    [Test]
    public void Pad_and_unpad_match_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(1000, 20, 0)] int capacity,
        [Values(64, 10)] int cols)
    {
        Random random = MoeTestData.NewRandom();
        const int rows = 900, experts = 40;
        long[] counts = MoeTestData.RandomCounts(random, rows, experts);
        (DeviceTensor sorted, double[] ss) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)rows * cols), dtype, rows, cols);
        using (sorted)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (DeviceTensor padded = MoeTestData.Poisoned(dtype, experts, capacity, cols))
        using (DeviceTensor dropped = MoeTestData.Poisoned(DType.Int64, 1))
        using (DeviceTensor back = MoeTestData.Poisoned(dtype, rows, cols))
        {
            MoeKernels.Pad(sorted, c, padded, dropped);
            (double[] refPadded, long refDropped) = MoeReference.Pad(ss, counts, capacity, cols);
            MoeTestData.AssertExact(MoeTestData.Download(padded), refPadded, $"{dtype} padded");
            Assert.That(dropped.ToArray<long>()[0], Is.EqualTo(refDropped), "dropped rows");

            MoeKernels.Unpad(padded, c, back);
            MoeTestData.AssertExact(MoeTestData.Download(back), MoeReference.Unpad(refPadded, counts, capacity, cols, rows), $"{dtype} unpadded");
        }
    }

    [TestCase(1)]
    [TestCase(80)]
    [TestCase(5000)]
    public void Max_count_matches_reference(int experts)
    {
        Random random = MoeTestData.NewRandom();
        long[] counts = Enumerable.Range(0, experts).Select(_ => (long)random.Next(-5, 1 << 20)).ToArray();
        using DeviceTensor c = DeviceTensor.FromArray(counts, experts);
        using DeviceTensor max = MoeTestData.Poisoned(DType.Int64, 1);
        MoeKernels.MaxCount(c, max);
        Assert.That(max.ToArray<long>()[0], Is.EqualTo(Math.Max(0, counts.Max())));
    }
}
