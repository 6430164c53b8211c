using GroupedGemm.Interop;
using System.Runtime.CompilerServices;
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

    [Test]
    public void Sort_sizes_beyond_the_int32_slot_ids_are_refused_naming_the_argument()
    {
        // Slot ids are int32: the native query refuses these too, but as a GroupedGemmException, not by argument.
        ArgumentAssert.Rejects(() => MoeKernels.SortWorkspaceBytes(1L << 31, 4), "slots", "2147483648");
        ArgumentAssert.Rejects(() => MoeKernels.SortWorkspaceBytes(8, int.MaxValue), "numExperts", "2147483647");
        ArgumentAssert.Rejects(() => MoeKernels.AllocateSortWorkspace(long.MaxValue, 4), "slots", "9223372036854775807");
        ArgumentAssert.Rejects(() => MoeKernels.AllocateSortWorkspace(8, 1L << 40), "numExperts", "1099511627776");
        DeviceTensor slots = FakeTensors.Make(DType.Int32, 1L << 31);
        ArgumentAssert.Rejects(
            () => MoeKernels.SortByExpert(slots, FakeTensors.Make(DType.Int64, 4), FakeTensors.Make(DType.Int32, 1L << 31),
                FakeTensors.Make(DType.Int32, 1L << 31), FakeTensors.Make(DType.Int64, 8)), "experts", "2147483648");
        ArgumentAssert.Rejects(
            () => MoeKernels.SortByExpert(FakeTensors.Make(DType.Int32, 8), FakeTensors.Make(DType.Int64, int.MaxValue),
                FakeTensors.Make(DType.Int32, 8), FakeTensors.Make(DType.Int32, 8), FakeTensors.Make(DType.Int64, 8)),
            "counts", "2147483647");
    }

    [Test]
    public void A_tensor_whose_bytes_pass_the_top_of_the_address_space_is_refused_naming_the_pointer()
    {
        // Its bytes fit int64, but the address past its end does not: a slice at that end wrapped to a negative address.
        nint pointer = unchecked((nint)0x3584_0000_0000_0L);
        ArgumentAssert.Rejects(
            () => DeviceTensor.Wrap(pointer, DType.Float8E5M2, [2, int.MaxValue, 1L << 31], device: 0), "pointer", "0x3584000000000");
        ArgumentAssert.Rejects(
            () => DeviceTensor.Wrap(nint.MaxValue - 7, DType.Float32, [4], device: 0), "pointer", "0x7FFFFFFFFFFFFFF8");
        ArgumentAssert.Rejects(
            () => DeviceTensor.Wrap(pointer, DType.Float8E4M3, [long.MaxValue - (1L << 40)], [1], device: 0), "pointer", "0x3584000000000");
        // The last byte at 2^63 - 1 is still an address.
        Assert.That(DeviceTensor.Wrap(nint.MaxValue - 7, DType.Float32, [2], device: 0).ByteCount, Is.EqualTo(8));
    }

    [Test]
    public void Padded_batches_whose_expert_rows_pass_int64_are_refused_naming_the_batch()
    {
        // [E, C, 0] holds no element, but the kernels are given E · C rows: 2^80 wrapped to 0.
        DeviceTensor Padded(long width = 0) => FakeTensors.Make(DType.BFloat16, 1L << 40, 1L << 40, width);
        DeviceTensor Bias(long width = 0) => FakeTensors.Make(DType.BFloat16, 1L << 40, width);
        DeviceTensor x = Padded();
        ArgumentAssert.Rejects(() => MoeKernels.BiasActivationPadded(x, null, Activation.Relu), "x", "[1099511627776, 1099511627776, 0]");
        ArgumentAssert.Rejects(() => MoeKernels.BiasActivationBackwardPadded(x, Bias(), Activation.Relu, x, x), "x", "1099511627776");
        ArgumentAssert.Rejects(
            () => MoeKernels.GatedActivationPadded(x, null, Activation.Silu, Padded()), "gateUp", "1099511627776");
        ArgumentAssert.Rejects(
            () => MoeKernels.GatedActivationBackwardPadded(x, null, Activation.Silu, Padded(), Padded()), "gateUp", "1099511627776");
        ArgumentAssert.Rejects(
            () => MoeKernels.BiasGradientPadded(x, FakeTensors.Make(DType.Float32, 1L << 40, 0)), "outputGradient", "1099511627776");
    }

    [Test]
    public void A_top_k_beyond_int32_is_refused_not_truncated()
    {
        // No tokens: every tensor is empty, and top-k 2^33 ≤ numExperts; (int)2^33 is 0.
        DeviceTensor logits = FakeTensors.Make(DType.BFloat16, 0, 1L << 34);
        ArgumentAssert.Rejects(
            () => MoeKernels.TopKSoftmax(logits, FakeTensors.Make(DType.Float32, 0, 1L << 33), FakeTensors.Make(DType.Int32, 0, 1L << 33),
                renormalize: true), "weights", "8589934592");
        // The backward took numExperts as top-k's bound, which passes int32 the same way.
        ArgumentAssert.Rejects(
            () => MoeKernels.TopKSoftmaxBackward(null, FakeTensors.Make(DType.Float32, 0, 1L << 33), FakeTensors.Make(DType.Int32, 0, 1L << 33),
                FakeTensors.Make(DType.Float32, 0, 1L << 33), renormalize: true, FakeTensors.Make(DType.Float32, 0, 1L << 34)), "weights",
            "8589934592");
    }

    [Test]
    public void Gather_backward_slots_beyond_int64_are_refused_naming_top_k()
    {
        // tokens · topK = 2^62 · 4 wrapped to 0, the element count of an empty slotRows.
        ArgumentAssert.Rejects(
            () => MoeKernels.GatherRowsBackward(FakeTensors.Make(DType.BFloat16, 3, 0), FakeTensors.Make(DType.Int32, 0), 4,
                FakeTensors.Make(DType.BFloat16, 1L << 62, 0)), "topK", "4611686018427387904");
    }

    [Test]
    public void Block_scale_counts_beyond_int64_are_refused_naming_the_scales()
    {
        // w [2^33, 2^33, 0] is empty, but 2^33 · 2^33 matrices of 0 columns: the product passed int64 before the 0.
        DeviceTensor w = FakeTensors.Make(DType.BFloat16, 1L << 33, 1L << 33, 0);
        DeviceTensor q = FakeTensors.Make(DType.Float8E4M3, 1L << 33, 1L << 33, 0);
        ArgumentAssert.Rejects(() => MoeKernels.QuantizeFp8Blocks(w, q, FakeTensors.Make(DType.Float32, 1), block: 1), "scales",
            "must have 0 elements");
    }

    [Test]
    public void A_context_refuses_an_undefined_backend_and_more_experts_than_any_backend_takes_by_argument()
    {
        // No GPU here: a context made without its constructor; the checks come before its native handle is used.
        var context = (GroupedGemmContext)RuntimeHelpers.GetUninitializedObject(typeof(GroupedGemmContext));
        ArgumentAssert.Rejects(() => context.Backend = (GemmBackend)99, "value", "99");
        ArgumentAssert.Rejects(() => context.Reserve(1L << 31), "maxExperts", "2147483648");
        ArgumentAssert.Rejects(() => context.Reserve(0), "maxExperts", "0");
    }

    [Test]
    public void The_sort_size_rule_refuses_exactly_what_the_native_query_refuses_at_its_bounds()
    {
        // The managed copy of the native int32 bounds (refused by argument there, as a status here), checked against
        // the native query on both sides of each bound: just outside, both refuse; just inside, neither refuses by
        // argument (without a GPU the native query then fails later, at its CUDA call, with another status).
        NativeLibraryLoader.EnsureLoaded();
        (long Slots, long Experts, bool Valid)[] cases =
        [
            (int.MaxValue + 1L, 4, false), (-1, 4, false), (8, 0, false), (8, int.MaxValue, false),
            (int.MaxValue, 4, true), (0, 1, true), (8, int.MaxValue - 1L, true),
        ];
        foreach ((long slots, long experts, bool valid) in cases)
        {
            GgStatus status = NativeMethods.gg_moe_sort_workspace_size(slots, experts, out _);
            Assert.That(status == GgStatus.InvalidArgument, Is.EqualTo(!valid), $"native query of ({slots}, {experts}): {status}");
            TestDelegate managed = () => MoeKernels.SortWorkspaceBytes(slots, experts);
            if (valid) Assert.That(() => { try { managed(); } catch (Exception e) when (e is not ArgumentException) { } }, Throws.Nothing, $"({slots}, {experts})");
            else Assert.That(managed, Throws.InstanceOf<ArgumentOutOfRangeException>(), $"({slots}, {experts})");
        }
    }
}
