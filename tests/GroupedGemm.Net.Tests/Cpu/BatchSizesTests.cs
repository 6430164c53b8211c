using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// <see cref="BatchSizes"/>, the one counts type of every grouped GEMM method: what converts to it, how missing
/// counts are refused, and that a call holds device counts (lease, graph capture) and pins host counts like its
/// other arguments. No GPU: fake tensors, and the native call is never reached.
/// </summary>
[TestFixture]
[NonParallelizable]
public class BatchSizesTests
{
    private static readonly GmmNames Names = GmmNames.Context;
    private static DeviceTensor A => FakeTensors.Make(DType.BFloat16, 1024, 64);
    private static DeviceTensor B => FakeTensors.Make(DType.BFloat16, 4, 64, 128);

    [Test]
    public void Arrays_memory_and_tensors_convert_implicitly()
    {
        long[] counts = [256, 256, 256, 256];
        BatchSizes host = counts;
        Assert.That(host.IsOnDevice, Is.False);
        Assert.That(host.HostCounts.ToArray(), Is.EqualTo(counts));
        Assert.That(host.ToString(), Is.EqualTo("BatchSizes(host: 4 experts)"));

        BatchSizes slice = new ReadOnlyMemory<long>([9, 256, 256, 256, 256], 1, 4);
        Assert.That(GmmValidation.Validate(A, B, null, slice, false, false, 0, Names).M, Is.EqualTo(1024));

        DeviceTensor onDevice = FakeTensors.Make(DType.Int64, 4);
        BatchSizes device = onDevice;
        Assert.That(device.IsOnDevice, Is.True);
        Assert.That(device.DeviceCounts, Is.SameAs(onDevice));
        Assert.That(device.HostCounts.IsEmpty, Is.True);
    }

    [Test]
    public void Host_and_device_counts_are_validated_as_before()
    {
        Assert.That(GmmValidation.Validate(A, B, null, new long[] { 256, 256, 256, 256 }, false, false, 0, Names),
            Is.EqualTo(GmmValidation.ValidateHostCounts(A, B, null, [256, 256, 256, 256], false, false, 0, Names)));
        Assert.That(GmmValidation.Validate(A, B, null, FakeTensors.Make(DType.Int64, 4), false, false, 0, Names),
            Is.EqualTo(new GmmDims(1024, 64, 128, 4, DType.BFloat16)));

        var sum = Assert.Throws<ArgumentException>(() => GmmValidation.Validate(A, B, null, new long[] { 250, 250, 250, 250 }, false, false, 0, Names));
        Assert.That(sum!.Message, Does.Contain("batchSizes sums to 1000 but a has 1024 rows"));
        var dtype = Assert.Throws<ArgumentException>(() => GmmValidation.Validate(A, B, null, FakeTensors.Make(DType.Int32, 4), false, false, 0, Names));
        Assert.That(dtype!.Message, Does.Contain("batchSizes must be an Int64 device tensor but is Int32"));
        var empty = Assert.Throws<ArgumentException>(() => GmmValidation.Validate(A, B, null, Array.Empty<long>(), false, false, 0, Names));
        Assert.That(empty!.Message, Does.Contain("batchSizes is empty"));
    }

    [Test]
    public void Missing_counts_are_refused_naming_the_argument()
    {
        foreach (BatchSizes missing in new[] { (long[])null!, (DeviceTensor)null!, default(BatchSizes) })
        {
            var e = Assert.Throws<ArgumentNullException>(() => GmmValidation.Validate(A, B, null, missing, false, false, 0, Names));
            Assert.That(e!.ParamName, Is.EqualTo("batchSizes"), missing.ToString());
        }

        var ops = Assert.Throws<ArgumentNullException>(() => Ops.Gmm(A, B, (DeviceTensor)null!));
        Assert.That(ops!.ParamName, Is.EqualTo("batchSizes"));
    }

    [Test]
    public unsafe void Host_counts_are_pinned_for_the_call_in_place()
    {
        long[] counts = [1, 2, 3];
        BatchSizes host = counts;
        using var lease = new CallLease();
        long* taken = host.Take(lease);
        fixed (long* first = counts) Assert.That((nint)taken, Is.EqualTo((nint)first), "the native call reads the caller's array, not a copy");
        Assert.That(host.Location, Is.EqualTo(GgCountsLocation.Host));
    }

    [Test]
    public unsafe void Device_counts_disposed_during_a_call_are_freed_only_after_it()
    {
        (DeviceTensor tensor, NativeHandle memory) = FakeTensors.Owned(DType.Int64, 4);
        BatchSizes counts = tensor;
        using (var lease = new CallLease())
        {
            Assert.That((nint)counts.Take(lease), Is.EqualTo(tensor.Pointer));
            Task.Run(tensor.Dispose).Wait();
            Assert.That(memory.IsReleased, Is.False, "the call still has the counts' address");
        }

        Assert.That(memory.IsReleased, Is.True);
        Assert.That(counts.Location, Is.EqualTo(GgCountsLocation.Device));
    }

    [Test]
    public unsafe void Device_counts_taken_during_a_capture_are_held_by_the_graph()
    {
        (DeviceTensor tensor, NativeHandle memory) = FakeTensors.Owned(DType.Int64, 4);
        CaptureRecorder recorder = CaptureRecorder.Begin();
        try
        {
            using var lease = new CallLease();
            _ = ((BatchSizes)tensor).Take(lease);
        }
        finally
        {
            recorder.Detach();
        }

        tensor.Dispose();
        Assert.That(memory.IsReleased, Is.False, "a replay reads the counts");
        recorder.Dispose();
        Assert.That(memory.IsReleased, Is.True);
    }
}
