using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Issue 27: <see cref="GroupedGemmContext.GmmBackwardInto"/> computes only the gradients asked for, into the caller's
/// tensors, and accumulates into them when told to (float32, so that the sum is checked without bf16 rounding).
/// </summary>
[TestFixture]
[Category("Gpu")]
public class GmmBackwardIntoTests : GpuFixture
{
    private const int Experts = 4, K = 64, N = 96;

    [Test]
    public void Only_the_requested_gradients_are_written_and_accumulate_adds([Values] bool transB)
    {
        const DType dtype = DType.BFloat16;
        Random random = TestRandom.Create();
        long[] counts = [100, 0, 60, 36];
        long m = counts.Sum();
        (DeviceTensor x, double[] xs) = DeviceData.Random(random, dtype, m, K);
        (DeviceTensor w, double[] ws) = DeviceData.Random(random, dtype, transB ? [Experts, N, K] : [Experts, K, N]);
        (DeviceTensor dy, double[] dys) = DeviceData.Random(random, dtype, m, N);
        double[] dxRef = CpuReference.Gmm(dys, ws, counts, N, K, transB: !transB);
        double[] dwRef = transB ? CpuReference.Gmm(dys, xs, counts, N, K, transA: true) : CpuReference.Gmm(xs, dys, counts, K, N, transA: true);
        using (x)
        using (w)
        using (dy)
        using (DeviceTensor dx = DeviceTensor.Allocate(dtype, m, K))
        using (DeviceTensor dw = DeviceTensor.Allocate(dtype, [.. w.Shape]))
        {
            dw.Fill(0xFF); // NaN: a write to dW would show
            Context.GmmBackwardInto(x, w, dy, counts, dx: dx, dw: null, transB: transB);
            AssertClose(DeviceData.Download(dx), dxRef, dtype, "dX alone");
            Assert.That(DeviceData.Download(dw), Is.All.NaN, "dW was not asked for");

            dx.Fill(0xFF);
            Context.GmmBackwardInto(x, w, dy, counts, dx: null, dw: dw, transB: transB);
            AssertClose(DeviceData.Download(dw), dwRef, dtype, "dW alone");
            Assert.That(DeviceData.Download(dx), Is.All.NaN, "dX was not asked for");

            // Accumulate: dW + dW = 2 dW, and dX (zeroed) + dX = dX.
            dx.Zero();
            Context.GmmBackwardInto(x, w, dy, counts, dx, dw, transB: transB, accumulate: true);
            AssertClose(DeviceData.Download(dx), dxRef, dtype, "dX accumulated onto zeros");
            AssertClose(DeviceData.Download(dw), dwRef.Select(v => 2 * v).ToArray(), dtype, "dW accumulated twice");
        }
    }

    [Test]
    public void Asking_for_no_gradient_or_a_misshaped_one_is_refused_by_name()
    {
        long[] counts = [8, 8, 8, 8];
        using DeviceTensor x = DeviceTensor.Allocate(DType.BFloat16, 32, K), w = DeviceTensor.Allocate(DType.BFloat16, Experts, K, N);
        using DeviceTensor dy = DeviceTensor.Allocate(DType.BFloat16, 32, N), wrong = DeviceTensor.Allocate(DType.BFloat16, Experts, N, K);
        var none = Assert.Throws<ArgumentException>(() => Context.GmmBackwardInto(x, w, dy, counts, dx: null, dw: null));
        Assert.That(none!.Message, Does.Contain("Neither dx nor dw"));
        var shape = Assert.Throws<ArgumentException>(() => Context.GmmBackwardInto(x, w, dy, counts, dx: null, dw: wrong));
        Assert.That(shape!.ParamName, Is.EqualTo("dw"));
        Assert.That(shape.Message, Does.Contain($"[{Experts}, {N}, {K}]").And.Contain($"[{Experts}, {K}, {N}]"));
    }
}
