using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>
/// The data pointer the CUDA path hands to native code, checked on CPU tensors (the same libtorch call for both):
/// it must include the storage offset and keep the tensor's dtype.
/// </summary>
public sealed unsafe class TensorMemoryTests : TorchFixture
{
    [Test]
    public void DataPointer_includes_the_storage_offset()
    {
        using Tensor whole = arange(0, 24, ScalarType.Float32).reshape(6, 4);
        using Tensor rows = whole.narrow(0, 2, 3);

        nint basePointer = TorchTensorMemory.DataPointer(whole);
        nint rowsPointer = TorchTensorMemory.DataPointer(rows);

        Assert.That(rows.storage_offset(), Is.EqualTo(8));
        Assert.That((long)(rowsPointer - basePointer), Is.EqualTo(8L * sizeof(float)));
        Assert.That(((float*)rowsPointer)[0], Is.EqualTo(8f));
    }

    [Test]
    public void DataPointer_reads_bf16_values_unconverted()
    {
        using Tensor values = tensor(new float[] { 1.5f, -2f, 3.25f }).to_type(ScalarType.BFloat16);

        var raw = (ushort*)TorchTensorMemory.DataPointer(values);

        Assert.That(BitConverter.Int32BitsToSingle(raw[2] << 16), Is.EqualTo(3.25f));
    }
}
