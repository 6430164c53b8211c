using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class GatherRowsTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    // cols 512 and 64 take the 16-byte path for every type; 13 and 66 do not (66 does for no type but fp16/bf16 pairs).
    [Test]
    public void Matches_reference(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType dtype,
        [Values(512, 64, 13, 66)] int cols,
        [Values(1, 8)] int divisor)
    {
        Random random = MoeTestData.NewRandom();
        const int sourceRows = 97;
        int rows = sourceRows * divisor + 5;
        int[] index = Enumerable.Range(0, rows).Select(_ => random.Next(-1, sourceRows * divisor)).ToArray();
        (DeviceTensor src, double[] stored) = MoeTestData.Upload(MoeTestData.Uniform(random, (long)sourceRows * cols), dtype, sourceRows, cols);
        using (src)
        using (DeviceTensor idx = DeviceTensor.FromArray(index, rows))
        using (DeviceTensor dst = MoeTestData.Poisoned(dtype, rows, cols))
        {
            MoeKernels.GatherRows(src, idx, divisor, dst);
            MoeTestData.AssertExact(MoeTestData.Download(dst), MoeReference.GatherRows(stored, cols, index, divisor), $"{dtype} gather");
        }
    }
}
