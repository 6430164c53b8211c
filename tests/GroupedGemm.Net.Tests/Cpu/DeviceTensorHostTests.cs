using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>DeviceTensor bookkeeping that needs no device: shapes, views, ownership, argument checks.</summary>
[TestFixture]
public class DeviceTensorHostTests
{
    [Test]
    public void Wrap_records_shape_sizes_and_does_not_own()
    {
        DeviceTensor t = DeviceTensor.Wrap(0x1000_0000, DType.BFloat16, [3, 5, 7], device: 2);
        Assert.That(t.Shape, Is.EqualTo(new long[] { 3, 5, 7 }));
        Assert.That(t.Rank, Is.EqualTo(3));
        Assert.That(t.ElementCount, Is.EqualTo(105));
        Assert.That(t.ByteCount, Is.EqualTo(210));
        Assert.That(t.Device, Is.EqualTo(2));
        Assert.That(t.OwnsMemory, Is.False);
        Assert.That(t.Pointer, Is.EqualTo((nint)0x1000_0000));
        t.Dispose(); // wrapped memory: nothing freed, no native call
        Assert.That(t.IsDisposed, Is.True);
    }

    [Test]
    public void More_than_2_to_the_31_elements_are_counted_in_64_bits()
    {
        DeviceTensor t = DeviceTensor.Wrap(0x1000_0000, DType.BFloat16, [65536, 65537], device: 0);
        Assert.That(t.ElementCount, Is.EqualTo(65536L * 65537));
        Assert.That(t.ByteCount, Is.EqualTo(65536L * 65537 * 2));
        Assert.Throws<InvalidOperationException>(() => t.ToArray<ushort>());
        DeviceTensor tail = t.Slice(65535, 1);
        Assert.That((long)tail.Pointer, Is.EqualTo(0x1000_0000 + (65535L * 65537 * 2)));
    }

    [Test]
    public void Reshape_and_slice_are_views_sharing_memory()
    {
        DeviceTensor t = DeviceTensor.Wrap(0x2000_0000, DType.Float32, [4, 6], device: 0);
        DeviceTensor r = t.Reshape(2, -1, 3);
        Assert.That(r.Shape, Is.EqualTo(new long[] { 2, 4, 3 }));
        Assert.That(r.Pointer, Is.EqualTo(t.Pointer));
        DeviceTensor s = t.Slice(1, 2);
        Assert.That(s.Shape, Is.EqualTo(new long[] { 2, 6 }));
        Assert.That(s.Pointer, Is.EqualTo(t.Pointer + (6 * 4)));
        Assert.That(s.OwnsMemory, Is.False);
        t.Dispose();
        Assert.That(r.IsDisposed && s.IsDisposed, Is.True, "views die with their base");
        Assert.Throws<ObjectDisposedException>(() => s.Reshape(12));
    }

    [Test]
    public void Bad_shapes_and_ranges_are_rejected()
    {
        DeviceTensor t = DeviceTensor.Wrap(0x3000_0000, DType.Float16, [4, 6], device: 0);
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(5, 5));
        Assert.That(e!.Message, Does.Contain("Cannot reshape [4, 6] (24 elements) to [5, 5] (25 elements)"));
        Assert.Throws<ArgumentException>(() => t.Reshape(-1, -1));
        Assert.Throws<ArgumentException>(() => t.Reshape(7, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceTensor.Wrap(0x3000_0000, DType.Float16, [4, -1], device: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceTensor.Wrap(0x3000_0000, DType.Float16, [long.MaxValue, 4], device: 0));
        Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(0, DType.Float16, [4], device: 0));
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(0, DType.Float16, [0, 4], device: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceTensor.Wrap(0x3000_0000, DType.Float16, [4], device: -1));
    }

    [Test]
    public void Host_copies_check_element_size_and_range_before_any_native_call()
    {
        DeviceTensor t = DeviceTensor.Wrap(0x4000_0000, DType.BFloat16, [8], device: 0);
        var e = Assert.Throws<ArgumentException>(() => t.CopyTo<float>(new float[8]));
        Assert.That(e!.Message, Does.Contain("Single is 4 bytes but the tensor's elements (BFloat16) are 2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.CopyFrom<ushort>(new ushort[4], elementOffset: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.CopyTo<ushort>(new ushort[1], elementOffset: -1));
        var count = Assert.Throws<ArgumentException>(() => DeviceTensor.FromSpan<float>(0, new float[5], 2, 3));
        Assert.That(count!.Message, Does.Contain("Shape [2, 3] has 6 elements but 5 values were given"));
    }

    [Test]
    public void Element_types_map_from_host_types()
    {
        Assert.That(DTypeExtensions.Of<float>(), Is.EqualTo(DType.Float32));
        Assert.That(DTypeExtensions.Of<Half>(), Is.EqualTo(DType.Float16));
        Assert.That(DTypeExtensions.Of<BFloat16>(), Is.EqualTo(DType.BFloat16));
        Assert.That(DTypeExtensions.Of<int>(), Is.EqualTo(DType.Int32));
        Assert.That(DTypeExtensions.Of<long>(), Is.EqualTo(DType.Int64));
        Assert.Throws<NotSupportedException>(() => DTypeExtensions.Of<double>());
        Assert.That(DType.BFloat16.ElementSize(), Is.EqualTo(2));
        Assert.That(DType.Int64.ElementSize(), Is.EqualTo(8));
        Assert.That(DType.Int32.IsFloatingPoint(), Is.False);
    }
}
