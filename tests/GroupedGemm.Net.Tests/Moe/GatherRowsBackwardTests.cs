using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class GatherRowsBackwardTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(1, 8)] int topK,
        [Values(512, 36)] int cols,
        [Values(false, true)] bool accumulate)
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 257;
        int slots = tokens * topK;
        // The sort's maps: a permutation with dropped slots (-1) whose rows sit past the counted ones.
        int[] experts = Enumerable.Range(0, slots).Select(_ => random.Next(12) - 1).ToArray(); // -1: dropped
        int[] slotRows = MoeReference.SortByExpert(experts, 11).SlotRows;
        (DeviceTensor dRows, double[] ds) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)slots * cols), dtype, slots, cols);
        (DeviceTensor dSrc, double[] initial) = accumulate
            ? MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * cols), dtype, tokens, cols)
            : (MoeTestData.Poisoned(dtype, tokens, cols), null!);
        using (dRows)
        using (dSrc)
        using (DeviceTensor map = DeviceTensor.FromArray(slotRows, slots))
        {
            MoeKernels.GatherRowsBackward(dRows, map, topK, dSrc, accumulate);
            double[] expected = MoeBackwardReference.GatherRowsBackward(ds, slots, slotRows, tokens, topK, cols, accumulate ? initial : null);
            MoeTestData.AssertClose(MoeTestData.Download(dSrc), expected, MoeTestData.Tolerance(dtype),
                $"{dtype} gather backward (top-{topK}, accumulate {accumulate})");
        }
    }

    [Test]
    public void A_token_whose_every_slot_is_dropped_gets_zero()
    {
        const int tokens = 3, topK = 2, cols = 8;
        int[] slotRows = [0, 1, -1, -1, 2, 3];
        double[] rows = Enumerable.Range(0, 4 * cols).Select(i => (double)(i % 5)).ToArray();
        (DeviceTensor dRows, double[] ds) = MoeTestData.Upload(rows, DType.Float32, 4, cols);
        using (dRows)
        using (DeviceTensor map = DeviceTensor.FromArray(slotRows, slotRows.Length))
        using (DeviceTensor dSrc = MoeTestData.Poisoned(DType.Float32, tokens, cols))
        {
            MoeKernels.GatherRowsBackward(dRows, map, topK, dSrc);
            double[] actual = MoeTestData.Download(dSrc);
            MoeTestData.AssertExact(actual, MoeBackwardReference.GatherRowsBackward(ds, 4, slotRows, tokens, topK, cols, null), "gather backward");
            Assert.That(actual.Skip(cols).Take(cols), Is.All.EqualTo(0.0), "token 1 (both slots dropped)");
        }
    }
}
