using GroupedGemm.Tests.Gpu.Reliability;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// Issue 23, items 3, 7 and 12: the MoE kernels stay inside their buffers when counts, router ids or indices do not
/// match them. Outputs sit between poisoned guard bands; inputs sit between NaN guard bands, so a read outside them
/// shows up as NaN in the result.
/// </summary>
[TestFixture]
[Category("Gpu")]
internal sealed class MoeBoundsTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    /// <summary>Before the fix: counts [1000, 1000] over a 100-row buffer wrote 1474 rows past it (silent corruption).</summary>
    [Test]
    public void Unpad_with_counts_beyond_the_sorted_rows_writes_only_the_sorted_rows()
    {
        const int rows = 100, cols = 64, capacity = 64, experts = 2;
        long[] counts = [1000, 1000];
        Random random = MoeTestData.NewRandom();
        (DeviceTensor padded, double[] paddedRef) =
            MoeTestData.Upload(MoeTestData.Uniform(random, (long)experts * capacity * cols), DType.BFloat16, experts, capacity, cols);
        using (padded)
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (var sorted = GuardedTensor.Allocate(DType.BFloat16, rows, cols))
        {
            MoeKernels.Unpad(padded, c, sorted.Inner);
            // Clamped to the buffer: expert 0 owns all 100 rows, its first 64 from padded and the rest zero.
            double[] expected = MoeReference.Unpad(paddedRef, [rows, 0], capacity, cols, rows);
            MoeTestData.AssertExact(MoeTestData.Download(sorted.Inner), expected, "unpad clamped to 100 rows");
            sorted.AssertGuardsUntouched("unpad with counts beyond the sorted rows");
        }
    }

    /// <summary>Before the fix: pad read rows 100..1999 of a 100-row buffer (here: the NaN guard band after it).</summary>
    [Test]
    public void Pad_with_counts_beyond_the_sorted_rows_reads_only_the_sorted_rows()
    {
        const int rows = 100, cols = 64, capacity = 64, experts = 2;
        long[] counts = [1000, 1000];
        Random random = MoeTestData.NewRandom();
        double[] values = MoeTestData.RoundTo(MoeTestData.Uniform(random, (long)rows * cols), DType.Float32);
        using (var sorted = GuardedTensor.Allocate(DType.Float32, rows, cols))
        using (DeviceTensor c = DeviceTensor.FromArray(counts, experts))
        using (var padded = GuardedTensor.Allocate(DType.Float32, experts, capacity, cols))
        using (DeviceTensor dropped = MoeTestData.Poisoned(DType.Int64, 1))
        {
            sorted.Inner.CopyFrom<float>(values.Select(v => (float)v).ToArray());
            MoeKernels.Pad(sorted.Inner, c, padded.Inner, dropped);
            (double[] expected, long expectedDropped) = MoeReference.Pad(values, [rows, 0], capacity, cols);
            MoeTestData.AssertExact(MoeTestData.Download(padded.Inner), expected, "pad clamped to 100 rows");
            Assert.That(dropped.ToArray<long>()[0], Is.EqualTo(expectedDropped), "dropped rows of the clamped counts");
            padded.AssertGuardsUntouched("pad with counts beyond the sorted rows");
        }
    }

    /// <summary>
    /// Before the fix: slots of dropped tokens (router ids -1 or E) pointed at sorted rows past the counted ones, which
    /// the grouped GEMM never writes, and combine added those uninitialised rows into the result.
    /// </summary>
    [Test]
    public void Dropped_tokens_are_skipped_by_gather_and_combine()
    {
        const int tokens = 300, topK = 2, experts = 8, cols = 32;
        const int slots = tokens * topK;
        Random random = MoeTestData.NewRandom();
        int[] ids = Enumerable.Range(0, slots).Select(i => i % 7 == 3 ? -1 : i % 11 == 5 ? experts : random.Next(experts)).ToArray();
        (DeviceTensor x, double[] xRef) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * cols), DType.Float32, tokens, cols);
        double[] w = MoeTestData.Uniform(random, slots);
        using (x)
        using (DeviceTensor idsOnDevice = DeviceTensor.FromArray(ids, tokens, topK))
        using (DeviceTensor counts = MoeTestData.Poisoned(DType.Int64, experts))
        using (DeviceTensor sortedSlots = MoeTestData.Poisoned(DType.Int32, slots))
        using (DeviceTensor slotRows = MoeTestData.Poisoned(DType.Int32, slots))
        using (DeviceTensor workspace = MoeKernels.AllocateSortWorkspace(slots, experts))
        using (DeviceTensor gathered = MoeTestData.Poisoned(DType.Float32, slots, cols))
        using (DeviceTensor weights = DeviceTensor.FromArray(w.Select(v => (float)v).ToArray(), tokens, topK))
        using (var output = GuardedTensor.Allocate(DType.Float32, tokens, cols))
        {
            MoeKernels.SortByExpert(idsOnDevice, counts, sortedSlots, slotRows, workspace);
            int[] rowsOfSlots = slotRows.ToArray<int>();
            int[] slotsOfRows = sortedSlots.ToArray<int>();
            long counted = counts.ToArray<long>().Sum();
            for (int s = 0; s < slots; s++)
            {
                bool dropped = ids[s] < 0 || ids[s] >= experts;
                Assert.That(rowsOfSlots[s] == -1, Is.EqualTo(dropped), $"slot {s} (expert id {ids[s]}): slot row {rowsOfSlots[s]}");
            }

            Assert.That(slotsOfRows.Skip((int)counted), Is.All.EqualTo(-1), "sorted rows past the counted ones");

            // The GEMM would leave the rows past the counted ones unwritten: gather writes zeros there instead.
            MoeKernels.GatherRows(x, sortedSlots, topK, gathered);
            double[] g = MoeTestData.Download(gathered);
            Assert.That(g.Skip((int)counted * cols), Is.All.EqualTo(0.0), "gathered rows of dropped tokens");

            // Poison the rows past the counted ones, as an unwritten GEMM output would be: combine must not read them.
            using (DeviceTensor expertOut = MoeTestData.Poisoned(DType.Float32, slots, cols))
            {
                expertOut.Slice(0, counted).CopyFrom(gathered.Slice(0, counted));
                MoeKernels.Combine(expertOut, slotRows, weights, null, output.Inner);
                double[] expected = MoeReference.Combine(g, rowsOfSlots, MoeTestData.RoundTo(w, DType.Float32), null, tokens, topK, cols);
                double[] actual = MoeTestData.Download(output.Inner);
                Assert.That(actual.Count(double.IsNaN), Is.Zero, "NaN from a dropped token's unwritten row");
                MoeTestData.AssertClose(actual, expected, 1e-6, "combine with dropped tokens");
                output.AssertGuardsUntouched("combine with dropped tokens");
            }
        }
    }

    /// <summary>Before the fix: an index past the source rows read outside the source buffer.</summary>
    [Test]
    public void Gather_index_past_the_source_rows_writes_a_zero_row()
    {
        const int srcRows = 10, cols = 16;
        Random random = MoeTestData.NewRandom();
        (DeviceTensor src, double[] srcRef) = MoeTestData.Upload(MoeTestData.Uniform(random, srcRows * cols), DType.Float32, srcRows, cols);
        int[] index = [0, 9, 10, 1_000_000, -1, 3];
        using (src)
        using (DeviceTensor idx = DeviceTensor.FromArray(index))
        using (var dst = GuardedTensor.Allocate(DType.Float32, index.Length, cols))
        {
            MoeKernels.GatherRows(src, idx, 1, dst.Inner);
            int[] clamped = index.Select(i => i >= srcRows ? -1 : i).ToArray();
            MoeTestData.AssertExact(MoeTestData.Download(dst.Inner), MoeReference.GatherRows(srcRef, cols, clamped, 1), "gather");
            dst.AssertGuardsUntouched("gather with indices past the source");
        }
    }

    /// <summary>Before the fix: a slot row past the expert output's rows was read from outside it.</summary>
    [Test]
    public void Combine_slot_row_past_the_expert_rows_adds_nothing()
    {
        const int tokens = 4, topK = 2, cols = 16;
        Random random = MoeTestData.NewRandom();
        (DeviceTensor expertOut, double[] eRef) = MoeTestData.Upload(MoeTestData.Uniform(random, tokens * topK * cols), DType.Float32, tokens * topK, cols);
        int[] rows = [0, 1, 8, 2, 3, 2_000_000, 7, -1];
        double[] w = [0.5, 0.25, 1, 0.5, 0.75, 1, 0.125, 1];
        using (expertOut)
        using (DeviceTensor slotRows = DeviceTensor.FromArray(rows))
        using (DeviceTensor weights = DeviceTensor.FromArray(w.Select(v => (float)v).ToArray(), tokens, topK))
        using (var output = GuardedTensor.Allocate(DType.Float32, tokens, cols))
        {
            MoeKernels.Combine(expertOut, slotRows, weights, null, output.Inner);
            int[] clamped = rows.Select(r => r >= tokens * topK ? -1 : r).ToArray();
            MoeTestData.AssertClose(MoeTestData.Download(output.Inner),
                MoeReference.Combine(eRef, clamped, w, null, tokens, topK, cols), 1e-6, "combine");
            output.AssertGuardsUntouched("combine with slot rows past the expert rows");
        }
    }
}
