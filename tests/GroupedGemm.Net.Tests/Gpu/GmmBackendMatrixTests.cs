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
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, 777, 8);
        counts[0] += counts[3];
        counts[3] = 0; // one empty expert in every case
        CheckAgainstReference(random, backend, dtype, form, countsKind, counts, k: 192, n: 160);
    }

    /// <summary>
    /// Weight gradient with one expert far larger than the rest (about 56 rows an expert, one of about 2550, one
    /// empty): one long reduction among short ones, as skewed routing makes them. Every backend that takes it must
    /// match the reference.
    /// </summary>
    [Test]
    public void Weight_gradient_with_one_dominant_expert_matches_reference(
        [Values] GemmBackend backend,
        [Values(DType.BFloat16, DType.Float16)] DType dtype,
        [Values] CountsKind countsKind)
    {
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, 900, 16);
        counts[2] = 0;
        counts[11] += 2500;
        CheckAgainstReference(random, backend, dtype, GmmForm.TransA, countsKind, counts, k: 96, n: 200);
    }

    /// <summary>
    /// Runs one call on fresh random operands into a poisoned output and compares it with the float64 reference;
    /// ignores the case when the backend refuses it, except Auto with host counts, which must take every call.
    /// </summary>
    private void CheckAgainstReference(
        Random random, GemmBackend backend, DType dtype, GmmForm form, CountsKind countsKind, long[] counts, int k, int n)
    {
        int experts = counts.Length;
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
