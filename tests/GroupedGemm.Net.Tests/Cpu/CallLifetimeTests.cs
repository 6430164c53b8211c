using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 23, item 5: nothing kept a tensor's memory alive between validation and the native call, so a Dispose on
/// another thread (or the finalizer of a temporary) could free it under the call. These tests stand an owned
/// tensor on a handle that releases nothing, dispose it from another thread at the last moment before the native
/// call (through the lease's test hook), and stop the call there with a sentinel exception, so no native code runs.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CallLifetimeTests
{
    private sealed class StopBeforeNativeCall : Exception;

    private static (DeviceTensor Tensor, NativeHandle Memory) OwnedFake(params long[] shape) => FakeTensors.Owned(DType.Float32, shape);

    [TearDown]
    public void ClearHook() => CallLease.t_afterTensorTaken = null;

    /// <summary>Disposes <paramref name="victim"/> on another thread when the lease takes it; returns whether the memory was released then.</summary>
    private static Func<bool?> DisposeFromAnotherThreadWhenTaken(DeviceTensor victim, NativeHandle memory)
    {
        bool? releasedDuringCall = null;
        CallLease.t_afterTensorTaken = taken =>
        {
            if (!ReferenceEquals(taken, victim) && !ReferenceEquals(taken.Memory, memory)) return;
            Task.Run(victim.Dispose).Wait();
            releasedDuringCall = memory.IsReleased;
            throw new StopBeforeNativeCall();
        };
        return () => releasedDuringCall;
    }

    [Test]
    public void Tensor_disposed_on_another_thread_during_a_call_is_freed_only_after_the_call()
    {
        (DeviceTensor destination, NativeHandle memory) = OwnedFake(16);
        DeviceTensor source = FakeTensors.Make(DType.Float32, 16);
        Func<bool?> releasedDuringCall = DisposeFromAnotherThreadWhenTaken(destination, memory);

        Assert.Throws<StopBeforeNativeCall>(() => destination.CopyFrom(source));

        Assert.That(releasedDuringCall(), Is.False, "the memory was freed while the call still had its address");
        Assert.That(destination.IsDisposed, Is.True);
        Assert.That(memory.IsReleased, Is.True, "the deferred free must happen when the call returns");
    }

    [Test]
    public void View_of_a_temporary_disposed_during_a_call_keeps_its_base_memory_until_the_call_returns()
    {
        (DeviceTensor owner, NativeHandle memory) = OwnedFake(4, 8);
        DeviceTensor view = owner.Reshape(32).Slice(8, 16);
        Func<bool?> releasedDuringCall = DisposeFromAnotherThreadWhenTaken(owner, memory);

        Assert.Throws<StopBeforeNativeCall>(() => view.Fill(0));

        Assert.That(releasedDuringCall(), Is.False);
        Assert.That(memory.IsReleased, Is.True);
        Assert.Throws<ObjectDisposedException>(() => view.Fill(0));
    }

    [Test]
    public void Disposed_tensor_is_refused_by_a_call_without_touching_native_code()
    {
        (DeviceTensor tensor, NativeHandle memory) = OwnedFake(8);
        tensor.Dispose();
        Assert.That(memory.IsReleased, Is.True);
        Assert.Throws<ObjectDisposedException>(() => tensor.Fill(0));
        Assert.Throws<ObjectDisposedException>(() => tensor.CopyFrom<float>(new float[8]));
        Assert.Throws<ObjectDisposedException>(() => FakeTensors.Make(DType.Float32, 8).CopyFrom(tensor));
    }

    [Test]
    public void A_graph_disposed_during_a_launch_on_another_thread_keeps_the_captured_memory_until_the_launch_returns()
    {
        (DeviceTensor tensor, NativeHandle memory) = OwnedFake(8);
        CaptureRecorder captured = FakeCapture.OneCallOn(tensor);
        var exec = new NativeHandle(0x1234, NativeHandleKind.None, device: -1);
        exec.ReleaseAfter(captured); // what CudaGraph's constructor does
        tensor.Dispose();

        using (var launch = new CallLease())
        {
            _ = launch.Handle(exec, exec);
            Task.Run(exec.Dispose).Wait(); // CudaGraph.Dispose on another thread
            Assert.That(memory.IsReleased, Is.False, "the launch in flight still queues the replay that uses the memory");
        }

        Assert.That(exec.IsReleased, Is.True);
        Assert.That(memory.IsReleased, Is.True, "released with the graph once the launch returned");
    }

    [Test]
    public void Capture_holds_tensor_memory_until_the_graph_releases_it()
    {
        (DeviceTensor tensor, NativeHandle memory) = OwnedFake(8);
        CaptureRecorder recorder = FakeCapture.OneCallOn(tensor.Reshape(2, 4));

        tensor.Dispose();
        Assert.That(recorder.Count, Is.EqualTo(1));
        Assert.That(memory.IsReleased, Is.False, "a captured graph may still replay on this memory");
        recorder.Dispose();
        Assert.That(memory.IsReleased, Is.True);
    }

    [Test]
    public void Calls_after_a_capture_ended_are_not_recorded()
    {
        (DeviceTensor tensor, NativeHandle memory) = OwnedFake(8);
        CaptureRecorder recorder = CaptureRecorder.Begin();
        recorder.Detach();
        using (var lease = new CallLease()) _ = lease.Pointer(tensor);
        Assert.That(recorder.Count, Is.Zero);
        tensor.Dispose();
        Assert.That(memory.IsReleased, Is.True);
        recorder.Dispose();
    }

    [Test]
    public void Moe_kernel_input_disposed_on_another_thread_is_freed_only_after_the_launch()
    {
        (DeviceTensor source, NativeHandle memory) = OwnedFake(4, 8);
        DeviceTensor destination = FakeTensors.Make(DType.Float16, 32);
        Func<bool?> releasedDuringCall = DisposeFromAnotherThreadWhenTaken(source, memory);

        Assert.Throws<StopBeforeNativeCall>(() => MoeKernels.Convert(source, destination));

        Assert.That(releasedDuringCall(), Is.False, "the kernel would read freed memory");
        Assert.That(memory.IsReleased, Is.True);
    }

    [Test]
    public void Captured_moe_kernel_holds_its_tensors_until_the_graph_releases_them()
    {
        (DeviceTensor source, NativeHandle sourceMemory) = OwnedFake(16);
        (DeviceTensor destination, NativeHandle destinationMemory) = OwnedFake(16);
        // Stop at the last tensor taken, before the device is entered: no native code runs.
        CallLease.t_afterTensorTaken = taken =>
        {
            if (ReferenceEquals(taken, destination)) throw new StopBeforeNativeCall();
        };
        CaptureRecorder recorder = CaptureRecorder.Begin();
        try
        {
            Assert.Throws<StopBeforeNativeCall>(() => MoeKernels.Convert(source, destination));
        }
        finally
        {
            recorder.Detach();
        }

        source.Dispose();
        destination.Dispose();
        Assert.That(recorder.Count, Is.EqualTo(2));
        Assert.That(sourceMemory.IsReleased || destinationMemory.IsReleased, Is.False, "a replay of the kernel uses both");
        recorder.Dispose();
        Assert.That(sourceMemory.IsReleased && destinationMemory.IsReleased, Is.True);
    }

    [Test]
    public void Moe_backward_kernel_input_disposed_on_another_thread_is_freed_only_after_the_launch()
    {
        // The backward kernels once kept their tensors with GC.KeepAlive after the call, which does not stop a
        // Dispose on another thread from freeing them under the launch; they now hold them through the call's lease.
        (DeviceTensor outputGradient, NativeHandle memory) = OwnedFake(6, 8);
        DeviceTensor counts = FakeTensors.Make(DType.Int64, 3);
        DeviceTensor biasGradient = FakeTensors.Make(DType.Float32, 3, 8);
        Func<bool?> releasedDuringCall = DisposeFromAnotherThreadWhenTaken(outputGradient, memory);

        Assert.Throws<StopBeforeNativeCall>(() => MoeKernels.BiasGradient(outputGradient, counts, biasGradient));

        Assert.That(releasedDuringCall(), Is.False, "the kernel would read freed memory");
        Assert.That(memory.IsReleased, Is.True);
    }

    [Test]
    public void Captured_moe_backward_kernel_holds_its_tensors_until_the_graph_releases_them()
    {
        (DeviceTensor outputGradient, NativeHandle gradientMemory) = OwnedFake(6, 8);
        (DeviceTensor biasGradient, NativeHandle biasMemory) = OwnedFake(3, 8);
        DeviceTensor counts = FakeTensors.Make(DType.Int64, 3);
        CallLease.t_afterTensorTaken = taken =>
        {
            if (ReferenceEquals(taken, biasGradient)) throw new StopBeforeNativeCall();
        };
        CaptureRecorder recorder = CaptureRecorder.Begin();
        try
        {
            Assert.Throws<StopBeforeNativeCall>(() => MoeKernels.BiasGradient(outputGradient, counts, biasGradient));
        }
        finally
        {
            recorder.Detach();
        }

        outputGradient.Dispose();
        biasGradient.Dispose();
        Assert.That(gradientMemory.IsReleased || biasMemory.IsReleased, Is.False, "a replay of the kernel uses both");
        recorder.Dispose();
        Assert.That(gradientMemory.IsReleased && biasMemory.IsReleased, Is.True);
    }
}
