using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>dX and dW of y = gmm(x, w, counts, transB) against the float64 reference.</summary>
[TestFixture]
[Category("Gpu")]
public class GmmBackwardTests : GpuFixture
{
    private static readonly DType[] FloatTypes = DeviceData.FloatTypes;

    [Test]
    public void Gradients_match_reference(
        [ValueSource(nameof(FloatTypes))] DType dtype, [Values] bool transB, [Values] CountsKind countsKind)
    {
        const int experts = 6, k = 96, n = 128;
        Random random = TestRandom.Create();
        long[] counts = Routing.Zipf(random, 640, experts);
        long m = counts.Sum();
        (DeviceTensor x, double[] xRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor w, double[] wRef) = DeviceData.Random(random, dtype, transB ? [experts, n, k] : [experts, k, n]);
        (DeviceTensor dy, double[] dyRef) = DeviceData.Random(random, dtype, m, n);
        using (x)
        using (w)
        using (dy)
        using (DeviceTensor? deviceCounts = countsKind == CountsKind.Device ? DeviceTensor.FromArray(counts) : null)
        {
            using (DeviceTensor probe = DeviceTensor.Allocate(dtype, m, k))
            {
                if (deviceCounts is not null &&
                    !Context.IsBackendSupported(GemmBackend.Auto, dy, w, deviceCounts, probe, false, !transB, out string reason))
                {
                    Assert.Ignore($"no compiled backend takes device counts for {dtype}: {reason}");
                }
            }

            (DeviceTensor dx, DeviceTensor dw) = deviceCounts is null
                ? Context.GmmBackward(x, w, dy, counts, transB)
                : Context.GmmBackward(x, w, dy, deviceCounts, transB);
            using (dx)
            using (dw)
            {
                Assert.That(dx.Shape, Is.EqualTo(new[] { m, k }));
                Assert.That(dw.Shape, Is.EqualTo(w.Shape));
                // dx = gmm(dy, w, trans_b = !transB): dy has N columns, the result K.
                double[] dxRef = CpuReference.Gmm(dyRef, wRef, counts, n, k, transB: !transB);
                double[] dwRef = transB
                    ? CpuReference.Gmm(dyRef, xRef, counts, n, k, transA: true)
                    : CpuReference.Gmm(xRef, dyRef, counts, k, n, transA: true);
                AssertClose(DeviceData.Download(dx), dxRef, dtype, "dX");
                AssertClose(DeviceData.Download(dw), dwRef, dtype, "dW");
            }
        }
    }

    [Test]
    public void Weight_gradient_and_ops_gmm_match_reference()
    {
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, 300, 5);
        (DeviceTensor x, double[] xRef) = DeviceData.Random(random, DType.BFloat16, 300, 64);
        (DeviceTensor y, double[] yRef) = DeviceData.Random(random, DType.BFloat16, 300, 48);
        (DeviceTensor w, double[] wRef) = DeviceData.Random(random, DType.BFloat16, 5, 64, 48);
        using (x)
        using (y)
        using (w)
        using (DeviceTensor grad = Context.GmmWeightGradient(x, y, counts))
        using (DeviceTensor forward = Ops.Gmm(x, w, counts))
        using (DeviceTensor countsOnDevice = DeviceTensor.FromArray(counts))
        {
            Assert.That(grad.Shape, Is.EqualTo(new long[] { 5, 64, 48 }));
            AssertClose(DeviceData.Download(grad), CpuReference.Gmm(xRef, yRef, counts, 64, 48, transA: true), DType.BFloat16, "weight gradient");
            AssertClose(DeviceData.Download(forward), CpuReference.Gmm(xRef, wRef, counts, 64, 48), DType.BFloat16, "Ops.Gmm");
            if (Context.IsBackendSupported(GemmBackend.Auto, x, w, countsOnDevice, forward, false, false, out _))
            {
                using DeviceTensor viaDevice = Ops.Gmm(x, w, countsOnDevice);
                AssertClose(DeviceData.Download(viaDevice), CpuReference.Gmm(xRef, wRef, counts, 64, 48), DType.BFloat16, "Ops.Gmm device counts");
            }
        }
    }
}
