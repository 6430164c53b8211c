using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 23, item 6: a disposed <see cref="CudaStream"/> handed out its handle, so options, copies and graph launches
/// queued work on a destroyed stream. Every use must throw <see cref="ObjectDisposedException"/> without a native call
/// (these tests run without the native library, so reaching native code would fail differently).
/// </summary>
[TestFixture]
public class DisposedStreamTests
{
    private static CudaStream DisposedStream()
    {
        CudaStream stream = CudaStream.Wrap(0x5150);
        stream.Dispose();
        return stream;
    }

    [Test]
    public void Disposed_stream_hands_out_no_handle()
    {
        CudaStream stream = DisposedStream();
        Assert.That(stream.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => _ = stream.Handle);
        Assert.Throws<ObjectDisposedException>(stream.Synchronize);
    }

    [Test]
    public void Disposed_stream_is_refused_by_tensor_copies_and_fills()
    {
        CudaStream stream = DisposedStream();
        DeviceTensor a = FakeTensors.Make(DType.Float32, 4);
        DeviceTensor b = FakeTensors.Make(DType.Float32, 4);
        Assert.Throws<ObjectDisposedException>(() => a.CopyFrom(b, stream));
        Assert.Throws<ObjectDisposedException>(() => a.Fill(1, stream));
        Assert.Throws<ObjectDisposedException>(() => a.CopyFrom<float>(new float[4], 0, stream));
        Assert.Throws<ObjectDisposedException>(() => a.CopyTo<float>(new float[4], 0, stream));
    }

    [Test]
    public void Disposed_stream_is_refused_by_graph_capture()
    {
        CudaStream stream = DisposedStream();
        bool ran = false;
        Assert.Throws<ObjectDisposedException>(() => CudaGraph.Capture(stream, () => ran = true));
        Assert.That(ran, Is.False);
    }

    [Test]
    public void Default_stream_survives_dispose()
    {
        CudaStream.Default.Dispose();
        Assert.That(CudaStream.Default.IsDisposed, Is.False);
        Assert.That(CudaStream.Default.Handle, Is.EqualTo((nint)0));
    }
}
