using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>What a user on a machine without a GPU sees: a clear CudaUnavailableException, not a crash.</summary>
[TestFixture]
public class NoGpuTests
{
    [SetUp]
    public void RequireLibraryWithoutDevice()
    {
        try
        {
            NativeLibraryLoader.EnsureLoaded();
        }
        catch (Exception e) when (e is NativeLibraryNotFoundException or NativeLibraryLoadException or CudaUnavailableException)
        {
            Assert.Ignore($"the native library is not loadable here, so the no-driver path cannot run: {e.Message}");
        }

        GgStatus status = NativeMethods.gg_device_count(out int count);
        if (status == GgStatus.Success && count > 0) Assert.Ignore($"this machine has {count} CUDA device(s)");
    }

    [Test]
    public void Device_count_says_no_driver_or_no_device()
    {
        var e = Assert.Throws<CudaUnavailableException>(() => _ = CudaDevice.Count);
        Assert.That(e!.Message, Does.Contain("no CUDA driver").Or.Contain("no CUDA device"));
        Assert.That(e.Status, Is.EqualTo(GroupedGemmStatus.NoDriver).Or.EqualTo(GroupedGemmStatus.NoDevice));
        Assert.That(CudaDevice.IsAvailable, Is.False);
        Assert.That(CudaDevice.UnavailableReason, Is.EqualTo(e.Message));
    }

    [Test]
    public void Ops_gmm_says_no_driver_or_no_device()
    {
        DeviceTensor x = FakeTensors.Make(DType.BFloat16, 8, 16);
        DeviceTensor w = FakeTensors.Make(DType.BFloat16, 2, 16, 32);
        var e = Assert.Throws<CudaUnavailableException>(() => Ops.Gmm(x, w, new long[] { 3, 5 }));
        Assert.That(e!.Message, Does.Contain("no CUDA driver").Or.Contain("no CUDA device"));
        Assert.Throws<CudaUnavailableException>(() => new GroupedGemmContext(0).Dispose());
    }

    [Test]
    public void Build_information_is_readable_without_a_device()
    {
        NativeBuildInfo info = CudaDevice.BuildInfo;
        Assert.That(info.AbiVersion, Is.EqualTo(NativeMethods.GG_ABI_VERSION));
        Assert.That(info.Backends, Does.Contain(GemmBackend.Auto));
        Assert.That(info.LibraryVersion, Does.Match(@"^\d+\.\d+\.\d+"));
        TestContext.Out.WriteLine(info);
    }
}
