using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class CombineBackwardTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(1, 8)] int topK,
        [Values(512, 36)] int cols,
        [Values("separate", "in place", "weights only", "rows only")] string mode)
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 301;
        int slots = tokens * topK;
        // A random permutation, with about one slot in ten dropped (-1): its row keeps its poison, its weight gradient is 0.
        int[] permutation = Enumerable.Range(0, slots).OrderBy(_ => random.Next()).ToArray();
        int[] slotRows = permutation.Select(r => random.Next(10) == 0 ? -1 : r).ToArray();
        float[] weights32 = MoeTestData.Uniform(random, slots).Select(w => (float)Math.Abs(w)).ToArray();
        double[] weights = weights32.Select(w => (double)w).ToArray();
        (DeviceTensor dy, double[] dys) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * cols), dtype, tokens, cols);
        (DeviceTensor expertOut, double[] es) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)slots * cols), dtype, slots, cols);
        (double[] dExpected, double[] dwExpected) =
            MoeBackwardReference.CombineBackward(dys, es, slotRows, weights, tokens, topK, cols, slots);
        bool rows = mode != "weights only", weightsWanted = mode != "rows only";
        using (dy)
        using (expertOut)
        using (DeviceTensor map = DeviceTensor.FromArray(slotRows, tokens, topK))
        using (DeviceTensor w = DeviceTensor.FromArray(weights32, tokens, topK))
        using (DeviceTensor separate = MoeTestData.Poisoned(dtype, slots, cols))
        using (DeviceTensor dw = MoeTestData.Poisoned(DType.Float32, tokens, topK))
        {
            DeviceTensor? dExpert = mode == "in place" ? expertOut : rows ? separate : null;
            MoeKernels.CombineBackward(dy, weightsWanted ? expertOut : null, map, rows ? w : null, dExpert,
                weightsWanted ? dw : null);
            if (rows) AssertRows(MoeTestData.Download(dExpert!), dExpected, es, slotRows, cols, mode == "in place", dtype);
            if (weightsWanted)
                MoeTestData.AssertClose(MoeTestData.Download(dw), dwExpected, 1e-4, $"{dtype} combine backward d_weights");
            else
                Assert.That(MoeTestData.Download(dw).All(double.IsNaN), "d_weights was not asked for but was written");
            if (!rows) Assert.That(MoeTestData.Download(separate).All(double.IsNaN), "d_expert_out was not asked for but was written");
        }
    }

    [Test]
    public void Repeats_bit_for_bit()
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 500, topK = 4, cols = 256;
        int slots = tokens * topK;
        int[] slotRows = Enumerable.Range(0, slots).OrderBy(_ => random.Next()).ToArray();
        using DeviceTensor dy = MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * cols), DType.BFloat16, tokens, cols).Tensor;
        using DeviceTensor expertOut = MoeTestData.Upload(MoeTestData.Uniform(random, (long)slots * cols), DType.BFloat16, slots, cols).Tensor;
        using DeviceTensor map = DeviceTensor.FromArray(slotRows, slots);
        using DeviceTensor w = DeviceTensor.FromArray(MoeTestData.Uniform(random, slots).Select(v => (float)v).ToArray(), tokens, topK);
        using DeviceTensor dw1 = MoeTestData.Poisoned(DType.Float32, tokens, topK), dw2 = MoeTestData.Poisoned(DType.Float32, tokens, topK);
        MoeKernels.CombineBackward(dy, expertOut, map, w, null, dw1);
        MoeKernels.CombineBackward(dy, expertOut, map, w, null, dw2);
        MoeTestData.AssertExact(MoeTestData.Download(dw2), MoeTestData.Download(dw1), "second run");
    }

    // Mapped rows against the reference; unmapped rows unchanged (poison, or the expert output itself when in place).
    private static void AssertRows(double[] actual, double[] expected, double[] expertOut, int[] slotRows, int cols,
        bool inPlace, DType dtype)
    {
        var mapped = new HashSet<int>(slotRows.Where(r => r >= 0));
        var got = new List<double>();
        var want = new List<double>();
        for (int r = 0; r < actual.Length / cols; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                if (mapped.Contains(r))
                {
                    got.Add(actual[i]);
                    want.Add(expected[i]);
                }
                else if (inPlace ? !actual[i].Equals(expertOut[i]) : !double.IsNaN(actual[i]))
                {
                    Assert.Fail($"row {r} belongs to no slot but element {c} was written: {actual[i]}");
                }
            }
        }

        MoeTestData.AssertClose(got.ToArray(), want.ToArray(), MoeTestData.Tolerance(dtype), $"{dtype} combine backward d_expert_out");
    }
}
