using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Base of the GPU fixtures: skips without a device and shares one context per fixture (creating cuBLAS handles is slow).</summary>
[Category("Gpu")]
public abstract class GpuFixture
{
    private GroupedGemmContext? _context;

    /// <summary>The fixture's context on device 0.</summary>
    protected GroupedGemmContext Context => _context ?? throw new InvalidOperationException("SetUp did not run.");

    [OneTimeSetUp]
    public void CreateContext()
    {
        if (CudaDevice.IsAvailable) _context = new GroupedGemmContext(0);
    }

    [SetUp]
    public void RequireDevice() => GpuGuard.Require();

    [OneTimeTearDown]
    public void DisposeContext() => _context?.Dispose();

    /// <summary>Runs one grouped GEMM of any form and counts kind into <paramref name="c"/> on the legacy default stream.</summary>
    protected void Run(DeviceTensor a, DeviceTensor b, long[] counts, DeviceTensor? deviceCounts, DeviceTensor c,
        GmmForm form, bool accumulate, GemmBackend backend)
    {
        var options = new GmmOptions { Backend = backend };
        bool transA = form == GmmForm.TransA, transB = form == GmmForm.TransB;
        if (deviceCounts is null) Context.GmmInto(a, b, counts, c, transA, transB, accumulate, options);
        else Context.GmmInto(a, b, deviceCounts, c, transA, transB, accumulate, options);
    }

    /// <summary>Whether the backend takes the call; prints the reason when not.</summary>
    protected bool Supported(GemmBackend backend, DeviceTensor a, DeviceTensor b, long[] counts, DeviceTensor? deviceCounts,
        DeviceTensor c, GmmForm form, out string reason)
    {
        bool transA = form == GmmForm.TransA, transB = form == GmmForm.TransB;
        bool ok = deviceCounts is null
            ? Context.IsBackendSupported(backend, a, b, counts, c, transA, transB, out reason)
            : Context.IsBackendSupported(backend, a, b, deviceCounts, c, transA, transB, out reason);
        if (!ok) TestContext.Out.WriteLine($"{backend}: {reason}");
        return ok;
    }

    /// <summary>
    /// One call of any form with device counts into a poisoned output (or onto random values with accumulate): the
    /// relative error against the float64 reference, or null when the backend does not take the call (Auto must).
    /// </summary>
    protected double? DeviceCountsError(Random random, GemmBackend backend, GmmForm form, DType dtype, long[] counts,
        int k, int n, bool accumulate)
    {
        int experts = counts.Length;
        long m = counts.Sum();
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, form.B(m, experts, k, n));
        (DeviceTensor c, double[] prior) = DeviceData.Random(random, dtype, form.C(m, experts, k, n));
        using (a)
        using (b)
        using (c)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        {
            if (!accumulate) c.Poison();
            if (!Supported(backend, a, b, counts, deviceCounts, c, form, out string reason))
            {
                Assert.That(backend, Is.Not.EqualTo(GemmBackend.Auto), $"Auto must take every call: {reason}");
                return null;
            }

            Run(a, b, counts, deviceCounts, c, form, accumulate, backend);
            double[] expected = CpuReference.Gmm(aRef, bRef, counts, k, n, form == GmmForm.TransA, form == GmmForm.TransB);
            if (accumulate)
            {
                for (int i = 0; i < expected.Length; i++) expected[i] += prior[i];
            }

            return CpuReference.RelativeError(DeviceData.Download(c), expected);
        }
    }

    /// <summary>
    /// <see cref="DeviceCountsError"/> for every backend, form, half type and accumulate flag given, each from a random
    /// seed fixed by <paramref name="seed"/> and the combination (a failure names data that reproduces it); asserts
    /// that some backend ran and that every error is within its dtype's bound.
    /// </summary>
    protected void AssertDeviceCountsCases(string name, int seed, long[] counts, int k, int n, GemmBackend[] backends,
        GmmForm[] forms)
    {
        var missed = new List<string>();
        int ran = 0;
        foreach (GemmBackend backend in backends)
        {
            foreach (GmmForm form in forms)
            {
                foreach (DType dtype in new[] { DType.BFloat16, DType.Float16 })
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var random = new Random((seed * 1009) + ((int)backend * 31) + ((int)form * 13) + ((int)dtype * 7) + (accumulate ? 1 : 0));
                        string what = $"{name}: {backend} {form} {dtype}{(accumulate ? " accumulate" : "")}";
                        double? error = DeviceCountsError(random, backend, form, dtype, counts, k, n, accumulate);
                        if (error is null) continue;
                        ran++;
                        TestContext.Out.WriteLine($"{what}: relative error {error:E3}");
                        if (!(error <= DeviceData.Tolerance(dtype))) missed.Add($"{what}: {error:E3}");
                    }
                }
            }
        }

        Assert.That(ran, Is.GreaterThan(0), "Auto must take every call");
        Assert.That(missed, Is.Empty, "relative errors over the dtype's bound");
    }

    /// <summary>
    /// Captures <paramref name="call"/> on <paramref name="stream"/> once, then for each counts array: writes it into
    /// <paramref name="counts"/>, poisons <paramref name="output"/>, replays the graph and checks the bf16 output
    /// against <paramref name="expected"/> of those counts.
    /// </summary>
    protected static void ReplayWithCounts(CudaStream stream, Action call, DeviceTensor counts, DeviceTensor output,
        IEnumerable<long[]> countSets, Func<long[], double[]> expected, string what)
    {
        using CudaGraph graph = CudaGraph.Capture(stream, call);
        foreach (long[] current in countSets)
        {
            counts.CopyFrom<long>(current, stream: stream);
            output.Poison(stream);
            graph.Launch(stream);
            stream.Synchronize();
            AssertClose(DeviceData.Download(output), expected(current), DType.BFloat16,
                $"{what} replay [{string.Join(", ", current.Where(c => c != 0))}] ({current.Count(c => c > 0)} live experts)");
        }
    }

    /// <summary>Asserts the relative error against the reference is within the dtype's bound.</summary>
    protected static void AssertClose(double[] actual, double[] expected, DType dtype, string what)
    {
        double error = CpuReference.RelativeError(actual, expected);
        TestContext.Out.WriteLine($"{what}: relative error {error:E3} (bound {DeviceData.Tolerance(dtype):E1})");
        Assert.That(error, Is.LessThanOrEqualTo(DeviceData.Tolerance(dtype)), what);
    }
}
