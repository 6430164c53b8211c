using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

[TestFixture]
[Category("Gpu")]
internal sealed class ConvertTests
{
    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    // Lengths: a multiple of the 4-element step, and one with a tail.
    [Test]
    public void Rounds_to_nearest_even_like_the_host_types(
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType from,
        [ValueSource(typeof(MoeTestData), nameof(MoeTestData.FloatTypes))] DType to,
        [Values(4096, 1031)] int n)
    {
        Random random = MoeTestData.NewRandom();
        (DeviceTensor src, double[] stored) = MoeTestData.Upload(MoeTestData.Uniform(random, n, 100), from, n);
        using (src)
        using (DeviceTensor dst = MoeTestData.Poisoned(to, n))
        {
            MoeKernels.Convert(src, dst);
            // The host conversions round to nearest even too, from the exact stored value.
            double[] expected = MoeTestData.RoundTo(stored, to);
            MoeTestData.AssertExact(MoeTestData.Download(dst), expected, $"{from} -> {to}");
        }
    }
}
