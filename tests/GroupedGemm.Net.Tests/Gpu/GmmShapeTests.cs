using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Routing patterns and edge shapes, every form, with and without accumulation, on every backend that takes them.</summary>
[TestFixture]
[Category("Gpu")]
public class GmmShapeTests : GpuFixture
{
    /// <summary>A shape case: name, E, K, N, and how to make the counts.</summary>
    public sealed record ShapeCase(string Name, int Experts, int K, int N, Func<Random, long[]> Counts)
    {
        /// <inheritdoc/>
        public override string ToString() => Name;
    }

    private static IEnumerable<ShapeCase> Cases()
    {
        yield return new("uniform", 16, 128, 256, r => Routing.Uniform(r, 1024, 16));
        yield return new("zipf", 32, 128, 128, r => Routing.Zipf(r, 2048, 32));
        yield return new("empty-experts", 10, 64, 96, r => Routing.WithEmptyExperts(r, 600, 10));
        yield return new("all-in-one-expert", 8, 64, 64, _ => Routing.AllIn(500, 8, 5));
        yield return new("single-expert", 1, 96, 80, _ => [300]);
        yield return new("4096-experts", 4096, 64, 64, r => Routing.Uniform(r, 8192, 4096));
        yield return new("m-zero", 6, 64, 32, _ => new long[6]);
        yield return new("k-zero", 4, 0, 48, r => Routing.Uniform(r, 100, 4));
        yield return new("odd-k65-n127", 5, 65, 127, r => Routing.Uniform(r, 333, 5));
    }

    [Test]
    public void Matches_reference(
        [ValueSource(nameof(Cases))] ShapeCase shape,
        [Values] GmmForm form,
        [Values] bool accumulate)
    {
        const DType dtype = DType.BFloat16;
        Random random = TestRandom.Create();
        long[] counts = shape.Counts(random);
        long m = counts.Sum();
        int e = shape.Experts, k = shape.K, n = shape.N;
        Context.Reserve(e);

        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, form.B(m, e, k, n));
        (DeviceTensor initial, double[] initialRef) = DeviceData.Random(random, dtype, form.C(m, e, k, n));
        using (a)
        using (b)
        using (initial)
        using (DeviceTensor c = DeviceTensor.Allocate(dtype, form.C(m, e, k, n)))
        {
            double[] product = CpuReference.Gmm(aRef, bRef, counts, k, n, form == GmmForm.TransA, form == GmmForm.TransB);
            double[] expected = accumulate ? product.Select((p, i) => p + initialRef[i]).ToArray() : product;
            int ran = 0;
            foreach (GemmBackend backend in Enum.GetValues<GemmBackend>())
            {
                // Poisoned (NaN) before a plain call; the known initial values before an accumulating one.
                if (accumulate) c.CopyFrom(initial);
                else c.Poison();
                if (!Supported(backend, a, b, counts, null, c, form, out _)) continue;
                Run(a, b, counts, null, c, form, accumulate, backend);
                AssertClose(DeviceData.Download(c), expected, dtype, $"{backend} {shape} {form} accumulate={accumulate}");
                ran++;
            }

            Assert.That(ran, Is.GreaterThan(0), "Auto at least must take every host-count call");
        }
    }

    [Test]
    public void K_zero_writes_zeros_and_leaves_accumulated_output_unchanged([Values] bool accumulate)
    {
        Random random = TestRandom.Create();
        long[] counts = [3, 0, 5];
        using DeviceTensor a = DeviceTensor.Allocate(DType.BFloat16, 8, 0);
        using DeviceTensor b = DeviceTensor.Allocate(DType.BFloat16, 3, 0, 16);
        (DeviceTensor c, double[] before) = DeviceData.Random(random, DType.BFloat16, 8, 16);
        using (c)
        {
            Context.GmmInto(a, b, counts, c, accumulate: accumulate);
            double[] after = DeviceData.Download(c);
            Assert.That(after, Is.EqualTo(accumulate ? before : new double[before.Length]));
        }
    }
}
