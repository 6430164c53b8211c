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
