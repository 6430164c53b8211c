using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 27: one base type for the package's errors, and an out-of-memory exception a framework can catch to empty its
/// cache and retry. The status-to-exception mapping is checked without native code (the native message is given).
/// </summary>
[TestFixture]
public class ExceptionHierarchyTests
{
    private const string OomText = "gg_malloc: cudaMalloc(ptr, bytes) failed: cudaErrorMemoryAllocation (out of memory) (api_memory.cpp:11)";

    [Test]
    public void Out_of_memory_status_throws_CudaOutOfMemoryException_with_the_native_text()
    {
        GroupedGemmException e = NativeStatus.Failure(GgStatus.OutOfMemory, OomText);

        Assert.That(e, Is.TypeOf<CudaOutOfMemoryException>());
        Assert.That(e.Status, Is.EqualTo(GroupedGemmStatus.OutOfMemory));
        Assert.That(e.NativeMessage, Is.EqualTo(OomText));
        Assert.That(e.Message, Is.EqualTo($"GroupedGemm native call failed: OutOfMemory: {OomText}"), "the text users saw before stays");
    }

    [Test]
    public void A_framework_catching_out_of_memory_can_empty_its_cache_and_retry()
    {
        int attempts = 0, cacheEmptied = 0;
        void Allocate()
        {
            if (++attempts == 1) throw NativeStatus.Failure(GgStatus.OutOfMemory, OomText);
        }

        try
        {
            Allocate();
        }
        catch (CudaOutOfMemoryException)
        {
            cacheEmptied++;
            Allocate();
        }

        Assert.That((attempts, cacheEmptied), Is.EqualTo((2, 1)));
    }

    [Test]
    public void Every_failed_status_maps_to_the_base_type_and_keeps_the_native_message(
        [Values] GroupedGemmStatus status)
    {
        if (status == GroupedGemmStatus.Success) Assert.Ignore("success throws nothing");
        GroupedGemmException e = NativeStatus.Failure((GgStatus)status, "native detail 42");

        Assert.That(e.Status, Is.EqualTo(status));
        Assert.That(e.Message, Does.Contain("native detail 42"));
        Type expected = status switch
        {
            GroupedGemmStatus.NoDriver or GroupedGemmStatus.NoDevice => typeof(CudaUnavailableException),
            GroupedGemmStatus.OutOfMemory => typeof(CudaOutOfMemoryException),
            _ => typeof(GroupedGemmException),
        };
        Assert.That(e, Is.TypeOf(expected));
    }

    [Test]
    public void The_package_errors_share_one_base_type_and_keep_their_old_bases()
    {
        Assert.That(typeof(CudaOutOfMemoryException).BaseType, Is.EqualTo(typeof(GroupedGemmException)));
        Assert.That(typeof(CudaUnavailableException).BaseType, Is.EqualTo(typeof(GroupedGemmException)));
        Assert.That(typeof(NativeLibraryLoadException).BaseType, Is.EqualTo(typeof(GroupedGemmException)));
        // Stays what .NET code already catches for a missing native library.
        Assert.That(typeof(NativeLibraryNotFoundException).BaseType, Is.EqualTo(typeof(DllNotFoundException)));

        var load = new NativeLibraryLoadException("/x/libgroupedgemm.so", "not a shared library");
        Assert.That((load.Status, load.NativeMessage, load.LibraryPath, load.Message),
            Is.EqualTo(((GroupedGemmStatus?)null, "", "/x/libgroupedgemm.so", "not a shared library")));

        var missing = new CudaUnavailableException("install libcublas", missingLibrary: "libcublas.so.12");
        Assert.That((missing.Status, missing.MissingLibrary), Is.EqualTo(((GroupedGemmStatus?)null, "libcublas.so.12")));
        var noDevice = new CudaUnavailableException("no CUDA device", GroupedGemmStatus.NoDevice);
        Assert.That(noDevice.Status, Is.EqualTo(GroupedGemmStatus.NoDevice));
    }
}
