using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Every backend × dtype × form × counts location against the float64 reference.</summary>
[TestFixture]
[Category("Gpu")]
public class GmmBackendMatrixTests : GpuFixture
{
    private static readonly DType[] FloatTypes = DeviceData.FloatTypes;

    [Test]
    public void Matches_reference(
        [Values] GemmBackend backend,
        [ValueSource(nameof(FloatTypes))] DType dtype,
        [Values] GmmForm form,
        [Values] CountsKind countsKind)
    {
        const int experts = 8, k = 192, n = 160;
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, 777, experts);
        counts[0] += counts[3];
        counts[3] = 0; // one empty expert in every case
        long m = counts.Sum();

        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, form.B(m, experts, k, n));
        using (a)
        using (b)
        using (DeviceTensor c = DeviceTensor.Allocate(dtype, form.C(m, experts, k, n)))
        using (DeviceTensor? deviceCounts = countsKind == CountsKind.Device ? DeviceTensor.FromArray(counts) : null)
        {
            c.Poison();
            if (!Supported(backend, a, b, counts, deviceCounts, c, form, out string reason))
            {
                if (backend == GemmBackend.Auto && countsKind == CountsKind.Host)
                    Assert.Fail($"Auto must take every host-count call: {reason}");
                Assert.Ignore($"{backend} does not take {dtype} {form} with {countsKind} counts: {reason}");
            }

            Run(a, b, counts, deviceCounts, c, form, accumulate: false, backend);
            double[] expected = CpuReference.Gmm(aRef, bRef, counts, k, n, form == GmmForm.TransA, form == GmmForm.TransB);
            AssertClose(DeviceData.Download(c), expected, dtype, $"{backend} {dtype} {form} {countsKind}");
        }
    }

    [Test]
    public void Auto_resolves_to_a_concrete_backend()
    {
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, 256, 4);
        (DeviceTensor a, _) = DeviceData.Random(random, DType.BFloat16, 256, 64);
        (DeviceTensor b, _) = DeviceData.Random(random, DType.BFloat16, 4, 64, 64);
        using (a)
        using (b)
        using (DeviceTensor c = DeviceTensor.Allocate(DType.BFloat16, 256, 64))
        {
            GemmBackend chosen = Context.SelectBackend(a, b, counts, c);
            TestContext.Out.WriteLine($"Auto chose {chosen} ({CudaDevice.BackendName(chosen)}); build: {CudaDevice.BuildInfo}");
            Assert.That(chosen, Is.Not.EqualTo(GemmBackend.Auto));
            Assert.That(CudaDevice.BuildInfo.Backends, Does.Contain(chosen));
        }
    }
}
