using GroupedGemm.Interop;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Issue 23, items 1 (managed part), 4, 5, 6 and 12 on a device: what the managed layer keeps alive for a call and for
/// a captured graph, and what it refuses. Each test checks the hazard's precondition (memory not yet freed) before
/// the step that would touch freed memory, so that without the fix it fails cleanly instead of faulting the context.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class ManagedLifetimeTests : GpuFixture
{
    private const DType Dt = DType.BFloat16;
    private const int Experts = 6, M = 300, K = 64, N = 96;

    [TearDown]
    public void ClearHook() => CallLease.t_afterTensorTaken = null;

    [Test]
    public void Graph_keeps_captured_tensors_and_context_alive_after_they_are_disposed()
    {
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, M, Experts);
        using CudaStream stream = CudaStream.Create();
        var context = new GroupedGemmContext(0);
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, Dt, M, K);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, Dt, Experts, K, N);
        DeviceTensor deviceCounts = DeviceTensor.FromArray(counts);
        using DeviceTensor c = DeviceTensor.Allocate(Dt, M, N);
        var options = new GmmOptions { Stream = stream };
        if (!context.IsBackendSupported(GemmBackend.Auto, a, b, deviceCounts, c, false, false, out string reason))
            Assert.Ignore($"no compiled backend takes device counts here: {reason}");

        CudaGraph graph = CudaGraph.Capture(stream, () => context.GmmInto(a.Reshape(M, K), b, deviceCounts, c, options: options));
        Assert.That(graph.HeldResourceCount, Is.GreaterThanOrEqualTo(5), "a, b, counts, c, the context and the stream");
        NativeHandle aMemory = a.Memory!, countsMemory = deviceCounts.Memory!;

        a.Dispose();
        b.Dispose();
        deviceCounts.Dispose();
        context.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(aMemory.IsReleased || countsMemory.IsReleased, Is.False, "the graph's inputs were freed before its replay");

        c.Poison(stream);
        graph.Launch(stream);
        stream.Synchronize();
        AssertClose(DeviceData.Download(c), CpuReference.Gmm(aRef, bRef, counts, K, N), Dt, "replay after disposing the inputs");

        graph.Dispose();
        Assert.That(aMemory.IsReleased && countsMemory.IsReleased, Is.True, "disposing the graph frees what it held");
    }

    [Test]
    public void Tensor_disposed_on_another_thread_during_gmm_is_freed_after_the_launch()
    {
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, M, Experts);
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, Dt, M, K);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, Dt, Experts, K, N);
        using (b)
        using (DeviceTensor c = DeviceTensor.Allocate(Dt, M, N))
        {
            NativeHandle memory = a.Memory!;
            bool? releasedDuringCall = null;
            CallLease.t_afterTensorTaken = taken =>
            {
                if (!ReferenceEquals(taken, a)) return;
                Task.Run(a.Dispose).Wait();
                releasedDuringCall = memory.IsReleased;
                Assert.That(releasedDuringCall, Is.False, "the memory was freed while the call still had its address");
            };

            c.Poison();
            Context.GmmInto(a, b, counts, c);
            CallLease.t_afterTensorTaken = null;
            Assert.That(releasedDuringCall, Is.False);
            Assert.That(memory.IsReleased, Is.True);
            AssertClose(DeviceData.Download(c), CpuReference.Gmm(aRef, bRef, counts, K, N), Dt, "gmm whose input was disposed mid-call");
        }
    }

    [Test]
    public void Temporary_input_view_survives_a_collection_during_gmm()
    {
        Random random = TestRandom.Create();
        long[] counts = Routing.Uniform(random, M, Experts);
        double[] x = TestRandom.Uniform(random, M * K);
        float[] xf = Array.ConvertAll(x, v => (float)v);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, DType.Float32, Experts, K, N);
        using (b)
        using (DeviceTensor c = DeviceTensor.Allocate(DType.Float32, M, N))
        {
            // Collect once the last tensor is taken: by then only the call holds the temporary.
            CallLease.t_afterTensorTaken = taken =>
            {
                if (!ReferenceEquals(taken, c)) return;
                GC.Collect();
                GC.WaitForPendingFinalizers();
            };
            c.Poison();
            Context.GmmInto(DeviceTensor.FromArray(xf).Reshape(M, K), b, counts, c);
            CallLease.t_afterTensorTaken = null;
            AssertClose(DeviceData.Download(c), CpuReference.Gmm(CpuReference.ToDouble(xf), bRef, counts, K, N),
                DType.Float32, "gmm of a collected temporary");
        }
    }

    [Test]
    public void Disposed_stream_is_refused_by_gmm_graph_launch_and_events()
    {
        var stream = CudaStream.Create();
        stream.Dispose();
        DeviceTensor a = DeviceTensor.Allocate(Dt, M, K), b = DeviceTensor.Allocate(Dt, Experts, K, N), c = DeviceTensor.Allocate(Dt, M, N);
        using (a)
        using (b)
        using (c)
        using (CudaStream live = CudaStream.Create())
        using (CudaEvent ev = CudaEvent.Create())
        using (CudaGraph graph = CudaGraph.Capture(live, () => c.Zero(live)))
        {
            long[] counts = Routing.Uniform(new Random(1), M, Experts);
            var options = new GmmOptions { Stream = stream };
            Assert.Throws<ObjectDisposedException>(() => Context.GmmInto(a, b, counts, c, options: options));
            Assert.Throws<ObjectDisposedException>(() => graph.Launch(stream));
            Assert.Throws<ObjectDisposedException>(() => ev.Record(stream));
            Assert.Throws<ObjectDisposedException>(() => c.Zero(stream));
            Assert.Throws<ObjectDisposedException>(() => Context.Gemm(a, b.Slice(0, 1).Reshape(K, N), stream: stream).Dispose());
            CudaDevice.Synchronize();
        }
    }

    [Test]
    public void Wrap_of_a_device_allocation_plus_one_byte_is_refused()
    {
        using DeviceTensor t = DeviceTensor.Allocate(Dt, 64);
        var e = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(t.Pointer + 1, Dt, [32]));
        Assert.That(e!.Message, Does.Contain("2-byte"));
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(t.Pointer + 2, Dt, [32]));
    }

    [Test]
    public void Memory_of_another_device_is_freed_on_its_own_device()
    {
        if (CudaDevice.Count < 2) Assert.Ignore("needs two CUDA devices");
        int before = CudaDevice.Current;
        CudaDevice.Current = 0;
        try
        {
            DeviceTensor onOne = DeviceTensor.Allocate(1, DType.Float32, 1 << 20);
            CudaStream streamOnOne = CudaStream.Create(1);
            NativeHandle memory = onOne.Memory!;
            // Dispose takes the same path as the finalizer thread, whose current device is whatever it last was.
            Task.Run(() =>
            {
                CudaDevice.Current = 0;
                onOne.Dispose();
                streamOnOne.Dispose();
                Assert.That(CudaDevice.Current, Is.EqualTo(0), "the releasing thread's device is restored");
            }).Wait();
            Assert.That(memory.IsReleased, Is.True);
            Assert.That(memory.ReleasedOnDevice, Is.EqualTo(1));
        }
        finally
        {
            CudaDevice.Current = before;
        }
    }
}
