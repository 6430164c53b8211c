using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 27: <c>DeviceTensor.Wrap</c> with strides as frameworks report them (in elements). Contiguous row-major
/// strides are taken; any other layout is refused with the strides given and those expected, since every kernel
/// reads the memory as contiguous.
/// </summary>
[TestFixture]
public class WrapStridesTests
{
    private const nint Address = 0x5000_0000;

    [Test]
    public void Contiguous_strides_are_accepted()
    {
        DeviceTensor t = DeviceTensor.Wrap(Address, DType.BFloat16, [2, 3, 4], [12, 4, 1], device: 0);
        Assert.That(t.Shape, Is.EqualTo(new long[] { 2, 3, 4 }));
        Assert.That(t.ElementCount, Is.EqualTo(24));
        Assert.That(t.OwnsMemory, Is.False);

        Assert.DoesNotThrow(() => DeviceTensor.Wrap(Address, DType.Float32, [], [], device: 0), "a scalar");
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(Address, DType.Float32, [5], [1], device: 0));
    }

    [Test]
    public void Extents_of_one_and_empty_tensors_take_any_stride_as_in_PyTorch()
    {
        // PyTorch reports e.g. x[:, None] or an unsqueezed dimension with strides that are not the product.
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(Address, DType.Float32, [2, 1, 4], [4, 999, 1], device: 0));
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(Address, DType.Float32, [1, 4], [1, 1], device: 0));
        Assert.DoesNotThrow(() => DeviceTensor.Wrap(0, DType.Float32, [0, 3], [7, 7], device: 0));
    }

    [Test]
    public void A_transposed_layout_is_refused_naming_the_strides_and_those_expected()
    {
        // y = x.t() of a [4, 3] tensor: shape [3, 4], strides [1, 3].
        var e = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(Address, DType.BFloat16, [3, 4], [1, 3], device: 0));
        Assert.That(e!.ParamName, Is.EqualTo("strides"));
        Assert.That(e.Message, Does.Contain("Strides [1, 3] of shape [3, 4] are not contiguous"));
        Assert.That(e.Message, Does.Contain("dimension 0 has stride 1 where 4 is expected"));
        Assert.That(e.Message, Does.Contain("in elements: [4, 1]"));
    }

    [Test]
    public void Padded_rows_and_broadcast_strides_are_refused()
    {
        // Rows padded to 8 elements, as a slice x[:, :4] of a [3, 8] tensor.
        var padded = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(Address, DType.Float16, [3, 4], [8, 1], device: 0));
        Assert.That(padded!.Message, Does.Contain("dimension 0 has stride 8 where 4 is expected"));

        // expand(): a zero stride repeats one row.
        var broadcast = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(Address, DType.Float16, [3, 4], [0, 1], device: 0));
        Assert.That(broadcast!.Message, Does.Contain("dimension 0 has stride 0 where 4 is expected"));

        // Every other column.
        var gapped = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(Address, DType.Float16, [3, 4], [4, 2], device: 0));
        Assert.That(gapped!.Message, Does.Contain("dimension 1 has stride 2 where 1 is expected"));
    }

    [Test]
    public void Strides_must_be_one_per_extent()
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(Address, DType.Float32, [3, 4], [4], device: 0));
        Assert.That(e!.ParamName, Is.EqualTo("strides"));
        Assert.That(e.Message, Does.Contain("Strides [4] have 1 entries but shape [3, 4] has 2 extents"));
        Assert.Throws<ArgumentNullException>(() => DeviceTensor.Wrap(Address, DType.Float32, [3, 4], (long[])null!, device: 0));
    }

    [Test]
    public void The_pointer_checks_still_apply_with_strides()
    {
        Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(Address + 2, DType.Float32, [3, 4], [4, 1], device: 0));
        Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(0, DType.Float32, [3, 4], [4, 1], device: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceTensor.Wrap(Address, DType.Float32, [3, -4], [4, 1], device: 0));
    }
}
