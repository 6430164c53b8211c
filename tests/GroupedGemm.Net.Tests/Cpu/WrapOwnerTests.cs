using System.Runtime.CompilerServices;
using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 27: <c>DeviceTensor.Wrap(..., owner)</c> keeps the object that owns wrapped memory (a framework's tensor)
/// reachable while the wrapping tensor, a view of it, a call using it, or a graph that captured such a call lives,
/// so the owner's finalizer cannot free the memory under them. Checked with the garbage collector and with the
/// handle that holds the owner; no native code runs.
/// </summary>
[TestFixture]
[NonParallelizable]
public class WrapOwnerTests
{
    private sealed class StopBeforeNativeCall : Exception;

    private sealed class FrameworkTensor;

    [TearDown]
    public void ClearHook() => CallLease.t_afterTensorTaken = null;

    private static long s_next = 0x6000_0000_0000;

    /// <summary>A wrapped tensor whose owner only the tensor references, and a weak reference to that owner.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (DeviceTensor Tensor, WeakReference Owner) WrapWithOwner(params long[] shape)
    {
        var owner = new FrameworkTensor();
        nint address = (nint)Interlocked.Add(ref s_next, 1L << 36);
        return (DeviceTensor.Wrap(address, DType.Float32, shape, device: 0, owner: owner), new WeakReference(owner));
    }

    /// <summary>Whether the handle still holds its owner, read in a frame of its own so that no local of the test keeps the owner alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Holds(KeepAliveHandle handle) => handle.Owner is not null;

    private static void CollectGarbage()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [Test]
    public void The_owner_lives_as_long_as_the_wrapping_tensor()
    {
        (DeviceTensor tensor, WeakReference owner) = WrapWithOwner(4, 8);
        CollectGarbage();
        Assert.That(owner.IsAlive, Is.True, "only the tensor references the owner");
        Assert.That(tensor.OwnerHandle!.Owner, Is.SameAs(owner.Target));
        GC.KeepAlive(tensor);
    }

    [Test]
    public void A_view_keeps_the_owner_of_its_base()
    {
        (DeviceTensor view, WeakReference owner) = ViewOnly();
        CollectGarbage();
        Assert.That(owner.IsAlive, Is.True, "the view's base, and with it the owner, must stay reachable");
        GC.KeepAlive(view);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static (DeviceTensor, WeakReference) ViewOnly()
        {
            (DeviceTensor tensor, WeakReference weak) = WrapWithOwner(4, 8);
            return (tensor.Reshape(32).Slice(8, 16), weak);
        }
    }

    [Test]
    public void Disposing_the_tensor_lets_the_owner_go_and_never_disposes_it()
    {
        (DeviceTensor tensor, WeakReference owner) = WrapWithOwner(8);
        KeepAliveHandle handle = tensor.OwnerHandle!;
        tensor.Dispose();
        Assert.That(handle.Owner, Is.Null);
        CollectGarbage();
        Assert.That(owner.IsAlive, Is.False, "a disposed tensor must not pin its owner");
        GC.KeepAlive(tensor);
    }

    [Test]
    public void Without_an_owner_nothing_is_held()
    {
        DeviceTensor tensor = FakeTensors.Make(DType.Float32, 8);
        Assert.That(tensor.OwnerHandle, Is.Null);
        var lease = new CallLease();
        _ = lease.Pointer(tensor);
        lease.Dispose();
    }

    [Test]
    public void A_tensor_disposed_on_another_thread_during_a_call_keeps_its_owner_until_the_call_returns()
    {
        (DeviceTensor tensor, _) = WrapWithOwner(16);
        KeepAliveHandle handle = tensor.OwnerHandle!;
        bool? heldDuringCall = null;
        CallLease.t_afterTensorTaken = taken =>
        {
            Task.Run(tensor.Dispose).Wait();
            heldDuringCall = Holds(handle);
            throw new StopBeforeNativeCall();
        };

        Assert.Throws<StopBeforeNativeCall>(() => tensor.Fill(0));

        Assert.That(heldDuringCall, Is.True, "the owner was let go while the call still had the address");
        Assert.That(handle.Owner, Is.Null, "the call returned: the owner must be let go");
        Assert.Throws<ObjectDisposedException>(() => tensor.Fill(0));
    }

    [Test]
    public void A_captured_graph_keeps_the_owner_until_it_is_disposed()
    {
        (CaptureRecorder recorder, KeepAliveHandle handle, WeakReference owner) = CaptureAndDispose();
        CollectGarbage();
        Assert.That(recorder.Count, Is.EqualTo(1));
        Assert.That(owner.IsAlive, Is.True, "a replay may still read the owner's memory");
        Assert.That(Holds(handle), Is.True);

        recorder.Dispose();
        Assert.That(handle.Owner, Is.Null);
        CollectGarbage();
        Assert.That(owner.IsAlive, Is.False);

        // Capture a call on a view of the wrapped tensor, then dispose the tensor and drop every reference but the graph's.
        [MethodImpl(MethodImplOptions.NoInlining)]
        static (CaptureRecorder, KeepAliveHandle, WeakReference) CaptureAndDispose()
        {
            (DeviceTensor tensor, WeakReference weak) = WrapWithOwner(8);
            CaptureRecorder r = FakeCapture.OneCallOn(tensor.Reshape(2, 4));

            KeepAliveHandle h = tensor.OwnerHandle!;
            tensor.Dispose();
            return (r, h, weak);
        }
    }
}
