using GroupedGemm.Interop;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Issue 23, items 4, 10 and 12, through the C ABI itself (the managed layer may check some of these first): a
/// misaligned pointer, an absurd reservation and an output overlapping an input are refused with a status that names
/// the argument, and the CUDA context is still usable afterwards.
/// </summary>
[TestFixture]
[Category("Gpu")]
public unsafe class NativeArgumentSafetyTests : GpuFixture
{
    /// <summary>Before the fix: status 0, then cudaErrorMisalignedAddress at the next synchronisation (a dead context).</summary>
    [Test]
    public void Misaligned_bf16_pointer_is_refused_by_gg_gmm()
    {
        const int experts = 2, m = 64, k = 32, n = 32;
        using DeviceTensor a = DeviceTensor.Allocate(DType.BFloat16, m * k + 8);
        using DeviceTensor b = DeviceTensor.Allocate(DType.BFloat16, experts, k, n);
        using DeviceTensor c = DeviceTensor.Allocate(DType.BFloat16, m, n);
        using DeviceTensor counts = DeviceTensor.FromArray(new long[] { 40, 24 });
        var args = new GgGmmArgs
        {
            A = (void*)(a.Pointer + 1), B = (void*)b.Pointer, C = (void*)c.Pointer, BatchSizes = (long*)counts.Pointer,
            M = m, K = k, N = n, NumExperts = experts, Dtype = GgDType.BFloat16, CountsLocation = GgCountsLocation.Device,
        };
        GgStatus status = NativeMethods.gg_gmm(Context.LiveHandle, &args);
        AssertRefused(status, "a (0x", "is not aligned to its element size of 2 bytes");
        AssertContextAlive();
    }

    [Test]
    public void Misaligned_pointers_are_refused_by_the_moe_kernels_and_gg_convert()
    {
        using DeviceTensor src = DeviceTensor.Allocate(DType.Float32, 64, 16);
        using DeviceTensor dst = DeviceTensor.Allocate(DType.Float32, 64, 16);
        using DeviceTensor index = DeviceTensor.FromArray(Enumerable.Range(0, 64).ToArray());
        AssertRefused(NativeMethods.gg_moe_gather_rows((void*)(src.Pointer + 2), 64, (int*)index.Pointer, 1, 64, 16,
            (void*)dst.Pointer, GgDType.Float32, null), "gg_moe_gather_rows: src", "is not aligned to its element size of 4 bytes");
        AssertRefused(NativeMethods.gg_moe_gather_rows((void*)src.Pointer, 64, (int*)(index.Pointer + 1), 1, 64, 16,
            (void*)dst.Pointer, GgDType.Float32, null), "gg_moe_gather_rows: index", "is not aligned");
        AssertRefused(NativeMethods.gg_convert((void*)src.Pointer, GgDType.Float32, (void*)(dst.Pointer + 1),
            GgDType.BFloat16, 64, null), "gg_convert: dst", "is not aligned to its element size of 2 bytes");
        using DeviceTensor counts = DeviceTensor.FromArray(new long[] { 32, 32 });
        using DeviceTensor padded = DeviceTensor.Allocate(DType.Float32, 2, 40, 16);
        AssertRefused(NativeMethods.gg_moe_pad((void*)src.Pointer, 64, (long*)(counts.Pointer + 4), 2, 40, 16,
            (void*)padded.Pointer, null, GgDType.Float32, null), "gg_moe_pad: counts", "element size of 8 bytes");
        AssertContextAlive();
    }

    [Test]
    public void Host_memory_is_refused_by_the_moe_kernels()
    {
        using DeviceTensor dst = DeviceTensor.Allocate(DType.Float32, 4, 16);
        float[] host = new float[64];
        int[] index = [0, 1, 2, 3];
        fixed (float* h = host)
        fixed (int* i = index)
        {
            AssertRefused(NativeMethods.gg_moe_gather_rows(h, 4, i, 1, 4, 16, (void*)dst.Pointer, GgDType.Float32, null),
                "gg_moe_gather_rows: src", "is host memory");
        }

        AssertContextAlive();
    }

    /// <summary>Before the fix: 2^40 experts was accepted (and asked cudaMalloc for half a petabyte).</summary>
    [Test]
    public void Reserve_beyond_device_memory_is_refused_and_the_workspace_survives()
    {
        GroupedGemmException? e = Assert.Throws<GroupedGemmException>(() => Context.Reserve(1L << 40));
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.InvalidArgument));
        Assert.That(e.Message, Does.Contain("max_experts = 1099511627776 would need"));
        Assert.That(e.Message, Does.Contain("bytes of memory"));

        // The handle still has its workspace: a call that needs it works.
        const DType dtype = DType.BFloat16;
        const int experts = 4, m = 128, k = 32, n = 64;
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, m, experts);
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, experts, k, n);
        using (a)
        using (b)
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(counts))
        using (DeviceTensor c = DeviceTensor.Allocate(dtype, m, n))
        {
            if (!Supported(GemmBackend.Auto, a, b, counts, deviceCounts, c, GmmForm.Forward, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");
            Context.GmmInto(a, b, deviceCounts, c);
            AssertClose(DeviceData.Download(c), CpuReference.Gmm(aRef, bRef, counts, k, n, false, false), dtype,
                "call after a refused reservation");
        }
    }

    /// <summary>Before the fix: gg_convert ran with dst half-way into src and read elements it had already overwritten.</summary>
    [Test]
    public void Convert_into_an_overlapping_destination_is_refused()
    {
        using DeviceTensor buffer = DeviceTensor.Allocate(DType.Float32, 1024);
        AssertRefused(NativeMethods.gg_convert((void*)buffer.Pointer, GgDType.Float32, (void*)(buffer.Pointer + 256),
            GgDType.BFloat16, 512, null), "gg_convert: dst", "overlaps src");
        // In place between types of one size stays allowed (each element is read and written by one thread).
        Assert.That(NativeMethods.gg_convert((void*)buffer.Pointer, GgDType.Float16, (void*)buffer.Pointer,
            GgDType.BFloat16, 512, null), Is.EqualTo(GgStatus.Success));
        AssertContextAlive();
    }

    /// <summary>Before the fix: gg_gemm accepted c overlapping b and cuBLAS raced with itself.</summary>
    [Test]
    public void Dense_gemm_with_c_overlapping_b_is_refused()
    {
        using DeviceTensor buffer = DeviceTensor.Allocate(DType.Float32, 64 * 64 * 3);
        var args = new GgGemmArgs
        {
            A = (void*)buffer.Pointer, B = (void*)(buffer.Pointer + 64 * 64 * 4), C = (void*)(buffer.Pointer + 64 * 64 * 4 + 128),
            M = 64, N = 64, K = 64, BatchCount = 1, StrideA = 64 * 64, StrideB = 64 * 64, StrideC = 64 * 64,
            Dtype = GgDType.Float32,
        };
        AssertRefused(NativeMethods.gg_gemm(Context.LiveHandle, &args), "c [0x", "overlaps b");
        AssertContextAlive();
    }

    private static void AssertRefused(GgStatus status, params string[] parts)
    {
        string message = NativeStatus.LastErrorMessage();
        Assert.That(status, Is.EqualTo(GgStatus.InvalidArgument), message);
        foreach (string part in parts) Assert.That(message, Does.Contain(part));
    }

    private static void AssertContextAlive()
    {
        // A sticky fault would surface here, and the allocation would fail.
        Assert.That(NativeMethods.gg_device_synchronize(), Is.EqualTo(GgStatus.Success));
        using DeviceTensor t = DeviceTensor.Allocate(DType.Float32, 16);
        t.Zero();
        Assert.That(t.ToArray<float>(), Is.All.EqualTo(0f));
    }
}
