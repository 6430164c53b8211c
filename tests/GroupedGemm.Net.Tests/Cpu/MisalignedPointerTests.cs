using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 23, item 4: a pointer that is not a multiple of its element size reaches 2-byte loads at odd addresses,
/// a sticky fault that kills the process's CUDA context. Wrap must refuse it before any kernel sees it.
/// </summary>
[TestFixture]
public class MisalignedPointerTests
{
    [TestCase(DType.BFloat16, 1)]
    [TestCase(DType.Float16, 1)]
    [TestCase(DType.Float32, 2)]
    [TestCase(DType.Int32, 1)]
    [TestCase(DType.Int64, 4)]
    public void Wrap_rejects_a_pointer_not_aligned_to_its_element_size(DType dtype, int offset)
    {
        nint pointer = 0x1000_0000 + offset;
        var e = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(pointer, dtype, [4, 8], device: 0));
        Assert.That(e!.ParamName, Is.EqualTo("pointer"));
        Assert.That(e.Message, Does.Contain($"0x{pointer:X}"));
        Assert.That(e.Message, Does.Contain(dtype.ToString()));
        Assert.That(e.Message, Does.Contain($"{dtype.ElementSize()}-byte"));
    }

    [Test]
    public void Wrap_accepts_element_aligned_pointers_and_views_stay_aligned()
    {
        DeviceTensor t = DeviceTensor.Wrap(0x1000_0002, DType.BFloat16, [5, 3], device: 0);
        DeviceTensor slice = t.Slice(1, 3);
        DeviceTensor reshaped = slice.Reshape(-1);
        Assert.That((long)slice.Pointer % 2, Is.Zero);
        Assert.That((long)reshaped.Pointer % 2, Is.Zero);
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(0x1000_0004, DType.Float32, [2], device: 0));
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(0x1000_0008, DType.Int64, [2], device: 0));
    }
}
