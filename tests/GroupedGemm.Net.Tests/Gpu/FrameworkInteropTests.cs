using System.Runtime.CompilerServices;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Issue 27 on a device: the out-of-memory exception a framework catches to empty its cache and retry, and wrapped
/// memory whose owner object is the only thing keeping it allocated, through a call and a captured graph.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class FrameworkInteropTests : GpuFixture
{
    [Test]
    public void An_allocation_beyond_device_memory_throws_CudaOutOfMemoryException_and_the_device_stays_usable()
    {
        // 2^48 floats = 1 PiB: no device has it.
        var e = Assert.Throws<CudaOutOfMemoryException>(() => DeviceTensor.Allocate(DType.Float32, 1L << 48));
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.OutOfMemory));
        Assert.That(e.NativeMessage, Does.Contain("cudaErrorMemoryAllocation"), "the native text stays in the exception");
        Assert.That(e.Message, Does.Contain(e.NativeMessage));
        Assert.That(e, Is.InstanceOf<GroupedGemmException>());

        // Out of memory is not a sticky error: the retry a framework makes after emptying its cache works.
        using DeviceTensor small = DeviceTensor.Allocate(DType.Float32, 16);
        small.Zero();
        Assert.That(small.ToArray<float>(), Is.All.EqualTo(0f));
    }

    [Test]
    public void Typed_reads_of_another_element_type_are_refused_on_real_memory()
    {
        using DeviceTensor bf16 = DeviceTensor.FromArray(new[] { (BFloat16)1f, (BFloat16)2f });
        Assert.Throws<ArgumentException>(() => bf16.ToArray<Half>());
        Assert.Throws<ArgumentException>(() => bf16.ToArray<float>());
        Assert.That(bf16.ToArray<BFloat16>(), Is.EqualTo(new[] { (BFloat16)1f, (BFloat16)2f }));
        Assert.That(bf16.ToArray<ushort>(), Is.EqualTo(new[] { ((BFloat16)1f).Bits, ((BFloat16)2f).Bits }), "raw bits");
    }

    /// <summary>
    /// The output lives in an owned tensor that only the wrapper references (as a framework's tensor would be): the
    /// wrapper is disposed after the capture and the garbage collector runs, yet the graph's replay writes into live
    /// memory, because the graph holds the owner.
    /// </summary>
    [Test]
    public void A_graph_keeps_the_owner_of_wrapped_memory_and_so_the_memory_alive()
    {
        const DType dtype = DType.BFloat16;
        const int experts = 4, m = 256, k = 64, n = 128;
        using CudaStream stream = CudaStream.Create();
        var options = new GmmOptions { Stream = stream };
        using Forward p = Forward.Create(dtype, experts, m, k, n);
        using (DeviceTensor deviceCounts = DeviceTensor.FromArray(p.Counts))
        {
            (DeviceTensor a, DeviceTensor b, long[] counts) = (p.A, p.B, p.Counts);
            (DeviceTensor c, WeakReference owner) = WrapFreshOutput(dtype, m, n);
            if (!Supported(GemmBackend.Auto, a, b, counts, deviceCounts, c, GmmForm.Forward, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");

            Context.Reserve(experts);
            CudaGraph graph = CudaGraph.Capture(stream, () => Context.GmmInto(a, b, deviceCounts, c, options: options));
            c.Dispose();
            c = null!;
            Collect();

            Assert.That(owner.IsAlive, Is.True, "the graph must keep the owner, which keeps the memory allocated");
            graph.Launch(stream);
            stream.Synchronize();
            AssertClose(DownloadOwner(owner), p.Expected(), dtype, "replay into the owner's memory");

            graph.Dispose();
            Collect();
            Assert.That(owner.IsAlive, Is.False, "a disposed graph must let the owner go");
        }
    }

    [Test]
    public void A_call_on_memory_wrapped_with_framework_strides_matches_the_reference()
    {
        const DType dtype = DType.Float16;
        const int experts = 3, m = 96, k = 32, n = 64;
        using Forward p = Forward.Create(dtype, experts, m, k, n);
        using DeviceTensor owned = DeviceTensor.Allocate(dtype, m, n);

        // As a framework reports a [m, n] tensor: strides [n, 1] in elements; the owned tensors stand for the framework's.
        using DeviceTensor wrappedA = DeviceTensor.Wrap(p.A.Pointer, dtype, [m, k], [k, 1], owner: p.A);
        using DeviceTensor c = DeviceTensor.Wrap(owned.Pointer, dtype, [m, n], [n, 1], owner: owned);
        Context.GmmInto(wrappedA, p.B, p.Counts, c);
        AssertClose(DeviceData.Download(owned), p.Expected(), dtype, "through strided wraps");
    }

    /// <summary>A forward grouped GEMM's random inputs, counts and float64 reference.</summary>
    private sealed record Forward(DeviceTensor A, double[] ARef, DeviceTensor B, double[] BRef, long[] Counts, long K, long N)
        : IDisposable
    {
        internal static Forward Create(DType dtype, int experts, long m, long k, long n)
        {
            Random random = TestRandom.Create();
            long[] counts = Routing.Uniform(random, m, experts);
            (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, m, k);
            (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, experts, k, n);
            return new Forward(a, aRef, b, bRef, counts, k, n);
        }

        internal double[] Expected() => CpuReference.Gmm(ARef, BRef, Counts, K, N, transA: false, transB: false);

        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }
    }

    /// <summary>An owned output tensor wrapped with itself as the owner; only the wrapper references it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (DeviceTensor Wrapped, WeakReference Owner) WrapFreshOutput(DType dtype, long m, long n)
    {
        DeviceTensor owned = DeviceTensor.Allocate(dtype, m, n);
        owned.Poison();
        return (DeviceTensor.Wrap(owned.Pointer, dtype, [m, n], [n, 1], owner: owned), new WeakReference(owned));
    }

    /// <summary>Reads the owner tensor in a frame of its own, so that no local of the test keeps it alive afterwards.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double[] DownloadOwner(WeakReference owner) => DeviceData.Download((DeviceTensor)owner.Target!);

    private static void Collect()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
