using System.Numerics.Tensors;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>Issue 27: System.Numerics.Tensors spans in and out of device tensors, the checks that need no GPU.</summary>
[TestFixture]
public class TensorSpanInteropTests
{
    [Test]
    public void Row_major_layouts_are_recognised_and_strided_ones_are_not()
    {
        Assert.That(DeviceTensor.IsRowMajor([2, 3, 4], [12, 4, 1]), Is.True);
        Assert.That(DeviceTensor.IsRowMajor([2, 1, 4], [4, 99, 1]), Is.True, "the stride of an extent of 1 does not matter");
        Assert.That(DeviceTensor.IsRowMajor([0, 3], [7, 7]), Is.True, "an empty tensor is contiguous");
        Assert.That(DeviceTensor.IsRowMajor([3, 2], [1, 3]), Is.False, "a transpose");
        Assert.That(DeviceTensor.IsRowMajor([2, 3], [6, 1]), Is.False, "a column slice: rows have gaps");
    }

    [Test]
    public void Extents_and_element_types_are_checked_before_any_copy()
    {
        DeviceTensor t = FakeTensors.Make(DType.Float32, 2, 3);
        var wrongShape = Assert.Throws<ArgumentException>(() => t.CopyFromTensorSpan(new ReadOnlyTensorSpan<float>(new float[6], [3, 2])));
        Assert.That(wrongShape!.ParamName, Is.EqualTo("source"));
        Assert.That(wrongShape.Message, Does.Contain("[3, 2]").And.Contain("[2, 3]"));
        Assert.Throws<ArgumentException>(() => t.CopyToTensorSpan(new TensorSpan<float>(new float[6], [6])));
        var wrongType = Assert.Throws<ArgumentException>(() => t.CopyFromTensorSpan(new ReadOnlyTensorSpan<Half>(new Half[6], [2, 3])));
        Assert.That(wrongType!.Message, Does.Contain("Float32"));
    }
}
