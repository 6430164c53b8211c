using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Sizes at the edges of int64 on the device-side managed API, refused by an argument exception that names the
/// argument, never a bare <see cref="OverflowException"/> (no GPU needed: fake tensors, refused before native code).
/// </summary>
[TestFixture]
public class ManagedSizeEdgeTests
{
    [Test]
    public void A_tensor_of_more_than_int64_bytes_is_refused_naming_its_shape()
    {
        // 2^62 float32 elements fit int64 as a count but are 2^64 bytes.
        ArgumentAssert.Rejects(() => FakeTensors.Make(DType.Float32, 1L << 62), "shape", "bytes");
        ArgumentAssert.Rejects(() => FakeTensors.Make(DType.BFloat16, 1L << 31, 1L << 31), "shape", "bytes");
    }

    [Test]
    public void A_quantize_block_beyond_the_extents_counts_one_block()
    {
        DeviceTensor w = FakeTensors.Make(DType.BFloat16, 2, 3, 5);
        DeviceTensor q = FakeTensors.Make(DType.Float8E4M3, 2, 3, 5);
        // ceil(rows / block) with rows + block - 1 past int64: one block per matrix, so two scales.
        ArgumentAssert.Rejects(
            () => MoeKernels.QuantizeFp8Blocks(w, q, FakeTensors.Make(DType.Float32, 5), block: long.MaxValue), "scales",
            "must have 2 elements");
        DeviceTensor x = FakeTensors.Make(DType.BFloat16, 3, 5);
        DeviceTensor qx = FakeTensors.Make(DType.Float8E4M3, 3, 5);
        ArgumentAssert.Rejects(
            () => MoeKernels.QuantizeFp8Rows(x, qx, FakeTensors.Make(DType.Float32, 5), blockCols: long.MaxValue), "scales",
            "must have 3 elements");
    }
}
