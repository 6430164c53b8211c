using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Memory;

/// <summary>
/// Issue 27: owned tensors come from an <see cref="IDeviceAllocator"/> for the stream they will be used on, go back to
/// it with whether calls used them on other streams, and a <see cref="TensorScope"/> disposes those allocated in it.
/// All on a fake backing allocator with made-up streams on device 0, so no GPU or native library is needed.
/// </summary>
[TestFixture]
[NonParallelizable]
public class TensorAllocationTests
{
    private FakeBackingAllocator _backing = null!;
    private CachingDeviceAllocator _cache = null!;
    private List<int> _synchronized = null!;

    [SetUp]
    public void Create()
    {
        _backing = new FakeBackingAllocator();
        _cache = new CachingDeviceAllocator(_backing, _ => { });
        _synchronized = [];
        CallLease.t_synchronizeDevice = _synchronized.Add;
    }

    [TearDown]
    public void ClearHook() => CallLease.t_synchronizeDevice = null;

    /// <summary>A tensor on a block that the cache reuses for <paramref name="stream"/> (work queued there may still use it).</summary>
    private DeviceTensor AllocateReused(long elements, CudaStream stream)
    {
        DeviceTensor first = Allocate(elements, stream);
        first.Dispose();
        DeviceTensor again = Allocate(elements, stream);
        Assert.That(again.Pointer, Is.EqualTo(first.Pointer), "the test needs a cache hit");
        return again;
    }

    private DeviceTensor Allocate(long elements, CudaStream? stream = null) =>
        DeviceTensor.Allocate(0, DType.Float32, [elements], stream, _cache);

    [Test]
    public void A_tensor_is_allocated_for_the_ambient_stream_and_its_memory_reused_there()
    {
        CudaStream s = CudaStream.Wrap(0x5000, device: 0);
        nint first;
        using (s.AsCurrent())
        {
            Assert.That(CudaStream.GetCurrent(0), Is.SameAs(s));
            using DeviceTensor t = Allocate(1024);
            first = t.Pointer;
        }

        Assert.That(CudaStream.GetCurrent(0), Is.SameAs(CudaStream.Default), "the scope restores the default");
        using (DeviceTensor other = Allocate(1024))
            Assert.That(other.Pointer, Is.Not.EqualTo(first), "the legacy default stream does not get stream 0x5000's block");
        using (s.AsCurrent())
        using (DeviceTensor again = Allocate(1024))
            Assert.That(again.Pointer, Is.EqualTo(first));
    }

    [Test]
    public void A_call_on_another_stream_makes_the_free_go_to_the_backing_allocator()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), other = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor t = Allocate(256, own);
        using (var lease = new CallLease())
        {
            _ = lease.Pointer(t.Reshape(16, 16));
            _ = lease.Stream(other);
        }

        t.Dispose();
        Assert.That(_backing.Frees, Is.EqualTo(new[] { (t.Pointer, (nint)0x6000, true) }),
            "work on stream 0x7000 may still read the block: it must not be reused on 0x6000 at once");
    }

    /// <summary>Captures one call on <paramref name="tensor"/> on <paramref name="stream"/>, as <c>CudaGraph.Capture</c> records it.</summary>
    private static CaptureRecorder CaptureOneCall(DeviceTensor tensor, CudaStream stream)
    {
        CaptureRecorder graph = CaptureRecorder.Begin();
        try
        {
            using var lease = new CallLease();
            _ = lease.Pointer(tensor);
            _ = lease.Stream(stream);
        }
        finally
        {
            graph.Detach();
        }

        return graph;
    }

    [TestCase(0x6000, false, TestName = "A graph replayed on its capture stream gives its blocks back to the cache")]
    [TestCase(0x7000, true, TestName = "A graph replayed on another stream gives its blocks to the backing allocator")]
    public void A_graph_replay_notes_its_stream_on_the_blocks_it_holds(long replayStream, bool toBacking)
    {
        CudaStream capture = CudaStream.Wrap(0x6000, device: 0);
        DeviceTensor t = Allocate(256, capture);
        CaptureRecorder graph = CaptureOneCall(t, capture);
        graph.NoteStream((nint)replayStream); // what CudaGraph.Launch does before queuing the replay
        t.Dispose();
        Assert.That(_backing.Frees, Is.Empty, "the graph holds the block");

        graph.Dispose();
        if (toBacking)
        {
            Assert.That(_backing.Frees, Is.EqualTo(new[] { (t.Pointer, (nint)0x6000, true) }),
                "a replay on stream 0x7000 may still use the block: caching it for 0x6000 would let new work there race it");
        }
        else
        {
            Assert.That(_backing.Frees, Is.Empty);
            Assert.That(_cache.Statistics.BytesCached, Is.EqualTo(1024));
        }
    }

    [Test]
    public void The_first_use_of_a_reused_block_on_another_stream_waits_for_the_device([Values] bool streamFirst)
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), other = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor reused = AllocateReused(256, own);
        using (var lease = new CallLease())
        {
            // Calls take the stream before the tensors (copies) or after them (Gmm's arguments): both orders count.
            if (streamFirst) _ = lease.Stream(other);
            _ = lease.Pointer(reused.Slice(0, 16));
            if (!streamFirst) _ = lease.Stream(other);
            Assert.That(_synchronized, Is.EqualTo(new[] { 0 }),
                "work queued on 0x6000 before the block was freed may still use it, and 0x7000 does not wait for 0x6000");
        }

        using (var lease = new CallLease())
        {
            _ = lease.Pointer(reused);
            _ = lease.Stream(CudaStream.Wrap(0x8000, device: 0));
        }

        Assert.That(_synchronized, Has.Count.EqualTo(1), "only the first use needs the wait");
        reused.Dispose();
    }

    [Test]
    public void A_reused_block_first_used_on_its_own_stream_and_a_new_block_do_not_wait()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), other = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor reused = AllocateReused(256, own), fresh = Allocate(4096, own);
        using (var lease = new CallLease())
        {
            _ = lease.Pointer(reused);
            _ = lease.Pointer(fresh);
            _ = lease.Stream(own);
        }

        using (var lease = new CallLease())
        {
            _ = lease.Pointer(reused);
            _ = lease.Pointer(fresh);
            _ = lease.Stream(other);
        }

        Assert.That(_synchronized, Is.Empty,
            "the first use was queued behind the old work on 0x6000; later streams order after it as for any data");
        reused.Dispose();
        fresh.Dispose();
    }

    [Test]
    public void A_query_on_the_blocks_own_stream_is_not_its_first_use_and_notes_no_stream()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), other = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor reused = AllocateReused(256, own);
        foreach (CudaStream queried in new[] { own, other })
        {
            // Backend selection takes the call's arguments and stream but queues no work behind which later work would wait.
            using var query = new CallLease(queuesWork: false);
            _ = query.Pointer(reused);
            _ = query.Stream(queried);
        }

        Assert.That(_synchronized, Is.Empty);
        Assert.That(reused.Memory!.UsedOnOtherStreams, Is.False, "a query does not use the memory on its stream");
        using (var call = new CallLease())
        {
            _ = call.Pointer(reused);
            _ = call.Stream(other);
        }

        Assert.That(_synchronized, Is.EqualTo(new[] { 0 }), "the call on 0x7000 is the first use, and 0x6000's old work may still run");
        reused.Dispose();
    }

    [Test]
    public void RecordStream_orders_the_first_use_of_a_reused_block_on_a_framework_stream()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), framework = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor reused = AllocateReused(64, own);
        reused.RecordStream(framework);
        Assert.That(_synchronized, Is.EqualTo(new[] { 0 }));
        reused.Dispose();
    }

    [Test]
    public void A_capture_does_not_synchronise_and_the_graph_waits_for_reused_blocks_when_the_capture_ends()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), capture = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor reused = AllocateReused(256, own), fresh = Allocate(4096, own);
        CaptureRecorder graph = CaptureRecorder.Begin();
        try
        {
            Assert.That(CaptureRecorder.IsCapturing, Is.True);
            using var lease = new CallLease();
            _ = lease.Pointer(reused);
            _ = lease.Pointer(fresh);
            _ = lease.Stream(capture);
        }
        finally
        {
            graph.Detach();
        }

        Assert.That(CaptureRecorder.IsCapturing, Is.False);
        Assert.That(_synchronized, Is.Empty, "a synchronisation inside a capture would invalidate it");
        Assert.That(graph.TakePendingFirstUses(), Is.EqualTo(new[] { 0 }), "what CudaGraph.Capture synchronises");
        Assert.That(graph.TakePendingFirstUses(), Is.Empty);
        reused.Dispose();
        fresh.Dispose();
        graph.Dispose();
    }

    [Test]
    public void RecordStream_marks_use_outside_the_library()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0), framework = CudaStream.Wrap(0x7000, device: 0);
        DeviceTensor recordedOwn = Allocate(64, own), recordedOther = Allocate(64, own);
        recordedOwn.RecordStream(own);
        recordedOther.Slice(0, 32).RecordStream(framework);
        recordedOwn.Dispose();
        recordedOther.Dispose();
        Assert.That(_backing.Frees, Is.EqualTo(new[] { (recordedOther.Pointer, (nint)0x6000, true) }));
    }

    [Test]
    public void A_call_on_its_own_stream_leaves_the_block_to_the_cache()
    {
        CudaStream own = CudaStream.Wrap(0x6000, device: 0);
        DeviceTensor t = Allocate(256, own);
        using (own.AsCurrent())
        using (var lease = new CallLease())
        {
            _ = lease.Pointer(t);
            _ = lease.Stream(null);
        }

        t.Dispose();
        Assert.That(_backing.Frees, Is.Empty);
        Assert.That(_cache.Statistics.BytesCached, Is.EqualTo(1024));
    }

    [Test]
    public void Ambient_streams_are_per_device_and_do_not_leak_out_of_a_task()
    {
        CudaStream onZero = CudaStream.Wrap(0x8000, device: 0), onOne = CudaStream.Wrap(0x9000, device: 1);
        using (onZero.AsCurrent())
        {
            using (onOne.AsCurrent())
            {
                Assert.That(CudaStream.GetCurrent(0), Is.SameAs(onZero));
                Assert.That(CudaStream.GetCurrent(1), Is.SameAs(onOne));
            }

            Assert.That(CudaStream.GetCurrent(1), Is.SameAs(CudaStream.Default));
            Task.Run(() =>
            {
                Assert.That(CudaStream.GetCurrent(0), Is.SameAs(onZero), "the ambient stream flows into tasks");
                _ = CudaStream.Wrap(0xA000, device: 0).AsCurrent();
            }).Wait();
            Assert.That(CudaStream.GetCurrent(0), Is.SameAs(onZero), "a task's scope does not leak back");
        }
    }

    [Test]
    public void A_scope_disposes_what_was_allocated_in_it_except_what_left()
    {
        DeviceTensor before = Allocate(16), inside, detached, moved, disposedEarly;
        TensorScope outer = TensorScope.Begin();
        using (TensorScope inner = TensorScope.Begin())
        {
            Assert.That(TensorScope.Current, Is.SameAs(inner));
            inside = Allocate(16);
            detached = Allocate(16).DetachFromScope();
            moved = Allocate(16).MoveToOuterScope();
            disposedEarly = Allocate(16);
            disposedEarly.Dispose();
            Assert.That(inner.Count, Is.EqualTo(1));
        }

        Assert.That(TensorScope.Current, Is.SameAs(outer));
        Assert.That(inside.IsDisposed, Is.True);
        Assert.That(moved.IsDisposed || detached.IsDisposed || before.IsDisposed, Is.False);
        outer.Dispose();
        Assert.That(moved.IsDisposed, Is.True, "the outer scope took it");
        Assert.That(detached.IsDisposed || before.IsDisposed, Is.False);
        Assert.That(TensorScope.Current, Is.Null);
        detached.Dispose();
        before.Dispose();
        Assert.That(_cache.Statistics.BytesInUse, Is.Zero);
    }

    [Test]
    public void Stream_scopes_disposed_out_of_order_keep_the_open_one_and_do_not_bring_back_an_ended_one()
    {
        CudaStream outer = CudaStream.Wrap(0xB000, device: 0), inner = CudaStream.Wrap(0xC000, device: 0);
        CurrentStreamScope outerScope = outer.AsCurrent();
        CurrentStreamScope innerScope = inner.AsCurrent();

        outerScope.Dispose();
        Assert.That(CudaStream.GetCurrent(0), Is.SameAs(inner), "the inner scope is still open");
        innerScope.Dispose();
        Assert.That(CudaStream.GetCurrent(0), Is.SameAs(CudaStream.Default), "the outer scope was disposed first: it stays ended");

        using (outer.AsCurrent())
        {
            CurrentStreamScope third = inner.AsCurrent();
            Task.Run(third.Dispose).Wait();
            Assert.That(CudaStream.GetCurrent(0), Is.SameAs(outer), "a scope ended on another flow is skipped here too");
        }

        Assert.That(CudaStream.GetCurrent(0), Is.SameAs(CudaStream.Default));
    }

    [Test]
    public void Tensor_scopes_disposed_out_of_order_leave_the_open_outer_one_current()
    {
        TensorScope outermost = TensorScope.Begin();
        TensorScope middle = TensorScope.Begin();
        TensorScope inner = TensorScope.Begin();
        middle.Dispose();
        inner.Dispose();
        Assert.That(TensorScope.Current, Is.SameAs(outermost));

        DeviceTensor t = Allocate(16);
        Assert.That(t.Scope, Is.SameAs(outermost));
        outermost.Dispose();
        Assert.That(t.IsDisposed, Is.True);
        Assert.That(TensorScope.Current, Is.Null);
    }

    [Test]
    public void A_scope_takes_tensors_allocated_by_tasks_of_its_flow()
    {
        var tensors = new DeviceTensor[64];
        using (TensorScope.Begin())
        {
            Parallel.For(0, tensors.Length, i => tensors[i] = Allocate(16));
        }

        Assert.That(tensors.All(t => t.IsDisposed), Is.True);
        Assert.That(_cache.Statistics.BytesInUse, Is.Zero);
    }

    [Test]
    public void A_loop_body_in_a_scope_allocates_only_on_its_first_pass()
    {
        for (int i = 0; i < 100; i++)
        {
            using var scope = TensorScope.Begin();
            _ = Allocate(1000);
            _ = Allocate(300_000);
        }

        Assert.That(_backing.Allocations, Has.Count.EqualTo(2));
    }

    [Test]
    public void A_context_allocator_and_the_default_are_replaceable()
    {
        IDeviceAllocator before = DeviceAllocator.Default;
        try
        {
            // The default caches (README, "Device memory": the GPU suite runs with it as the default).
            Assert.That(before, Is.SameAs(CachingDeviceAllocator.Shared));
            DeviceAllocator.Default = _cache;
            using (DeviceTensor t = DeviceTensor.Allocate(0, DType.Int64, 8))
                Assert.That(_backing.Allocations, Has.Count.EqualTo(1));
            Assert.Throws<ArgumentNullException>(() => DeviceAllocator.Default = null!);
        }
        finally
        {
            DeviceAllocator.Default = before;
        }
    }
}
