using System.Numerics.Tensors;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Issue 27: System.Numerics.Tensors spans to and from the device, dense and strided.</summary>
[TestFixture]
[Category("Gpu")]
public class TensorSpanInteropGpuTests : GpuFixture
{
    [Test]
    public void Dense_and_transposed_spans_round_trip()
    {
        float[] values = Enumerable.Range(0, 6).Select(v => (float)v).ToArray(); // [[0, 1, 2], [3, 4, 5]]
        using (DeviceTensor dense = DeviceTensor.FromTensorSpan(new ReadOnlyTensorSpan<float>(values, [2, 3])))
        {
            Assert.That(dense.Shape, Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(dense.ToArray<float>(), Is.EqualTo(values));
            Tensor<float> back = dense.ToTensor<float>();
            Assert.That(back.Lengths.ToArray(), Is.EqualTo(new nint[] { 2, 3 }));
            Assert.That(back[1, 2], Is.EqualTo(5f));
        }

        // The transpose [3, 2] is gathered row-major on the way in, and scattered into a strided view on the way out.
        var transposed = new ReadOnlyTensorSpan<float>(values, [3, 2], [1, 3]);
        using DeviceTensor t = DeviceTensor.FromTensorSpan(transposed);
        Assert.That(t.ToArray<float>(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
        var target = new float[6];
        t.CopyToTensorSpan(new TensorSpan<float>(target, [3, 2], [1, 3]));
        Assert.That(target, Is.EqualTo(values));
    }
}
