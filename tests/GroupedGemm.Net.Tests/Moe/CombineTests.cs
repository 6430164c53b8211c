using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class CombineTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(1, 8)] int topK,
        [Values(512, 36)] int cols,
        [Values("none", "separate", "in place")] string residualMode)
    {
        Random random = MoeTestData.NewRandom();
        const int tokens = 301;
        int slots = tokens * topK;
        int[] slotRows = Enumerable.Range(0, slots).OrderBy(_ => random.Next()).ToArray(); // a random permutation
        double[] weights = MoeTestData.Uniform(random, slots).Select(Math.Abs).ToArray();
        float[] weights32 = weights.Select(w => (float)w).ToArray();
        double[] weightsStored = weights32.Select(w => (double)w).ToArray();
        (DeviceTensor expertOut, double[] es) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)slots * cols), dtype, slots, cols);
        (DeviceTensor? residual, double[]? rs) = residualMode == "none"
            ? (null, null)
            : MoeTestData.Upload(MoeTestData.Uniform(random, (long)tokens * cols), dtype, tokens, cols);
        using (expertOut)
        using (residual)
        using (DeviceTensor rows = DeviceTensor.FromArray(slotRows, tokens, topK))
        using (DeviceTensor w = DeviceTensor.FromArray(weights32, tokens, topK))
        using (DeviceTensor separate = MoeTestData.Poisoned(dtype, tokens, cols))
        {
            DeviceTensor output = residualMode == "in place" ? residual! : separate;
            MoeKernels.Combine(expertOut, rows, w, residual, output);
            double[] expected = MoeReference.Combine(es, slotRows, weightsStored, rs, tokens, topK, cols);
            MoeTestData.AssertClose(MoeTestData.Download(output), expected, MoeTestData.Tolerance(dtype), $"{dtype} combine ({residualMode})");
        }
    }
}
