using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// The libcuda shim (CudaStream.Wait, CudaEvent.IsCompleted): a driver library that cannot be loaded, or lacks the
/// function, surfaces as the package's <see cref="CudaUnavailableException"/> naming the library, not as a bare
/// <see cref="DllNotFoundException"/> from the interop layer.
/// </summary>
[TestFixture]
public class CudaDriverShimTests
{
    [Test]
    public void A_missing_driver_library_is_reported_as_cuda_unavailable([Values] bool entryPointMissing)
    {
        Exception cause = entryPointMissing
            ? new EntryPointNotFoundException("cuEventQuery")
            : new DllNotFoundException("libcuda.so.1: cannot open shared object file");

        CudaUnavailableException e = CudaDriver.Unavailable("cuEventQuery", cause);

        Assert.That(e.MissingLibrary, Is.EqualTo("libcuda.so.1"));
        Assert.That(e.Status, Is.EqualTo(GroupedGemmStatus.NoDriver));
        Assert.That(e.InnerException, Is.SameAs(cause));
        Assert.That(e.Message, Does.Contain("cuEventQuery").And.Contain("LD_LIBRARY_PATH"));
    }
}
