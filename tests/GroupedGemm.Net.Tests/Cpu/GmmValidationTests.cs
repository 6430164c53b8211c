using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>Every check made before a native call, with its message (no GPU needed).</summary>
[TestFixture]
public class GmmValidationTests
{
    private static readonly GmmNames Names = GmmNames.Context;
    private static DeviceTensor A => FakeTensors.Make(DType.BFloat16, 1024, 64);
    private static DeviceTensor B => FakeTensors.Make(DType.BFloat16, 4, 64, 128);
    private static readonly long[] Counts = [256, 256, 256, 256];

    private static ArgumentException Host(DeviceTensor? a, DeviceTensor? b, DeviceTensor? c, long[] counts,
        bool transA = false, bool transB = false, int device = 0) =>
        Assert.Throws(Is.InstanceOf<ArgumentException>(),
            () => GmmValidation.ValidateHostCounts(a, b, c, counts, transA, transB, device, Names)) as ArgumentException
        ?? throw new AssertionException("no exception");

    [Test]
    public void A_valid_call_yields_its_sizes()
    {
        GmmDims forward = GmmValidation.ValidateHostCounts(A, B, FakeTensors.Make(DType.BFloat16, 1024, 128), Counts, false, false, 0, Names);
        Assert.That(forward, Is.EqualTo(new GmmDims(1024, 64, 128, 4, DType.BFloat16)));
        GmmDims transB = GmmValidation.ValidateHostCounts(A, FakeTensors.Make(DType.BFloat16, 4, 96, 64), null, Counts, false, true, 0, Names);
        Assert.That(transB.N, Is.EqualTo(96));
        GmmDims transA = GmmValidation.ValidateHostCounts(A, FakeTensors.Make(DType.BFloat16, 1024, 32), FakeTensors.Make(DType.BFloat16, 4, 64, 32), Counts, true, false, 0, Names);
        Assert.That(transA, Is.EqualTo(new GmmDims(1024, 64, 32, 4, DType.BFloat16)));
    }

    [Test]
    public void Null_operands_are_named()
    {
        Assert.That(Assert.Throws<ArgumentNullException>(() => GmmValidation.ValidateHostCounts(null, B, null, Counts, false, false, 0, Names))!.ParamName, Is.EqualTo("a"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => GmmValidation.ValidateHostCounts(A, null, null, Counts, false, false, 0, Names))!.ParamName, Is.EqualTo("b"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => GmmValidation.ValidateDeviceCounts(A, B, null, null, false, false, 0, Names))!.ParamName, Is.EqualTo("batchSizes"));
    }

    [Test]
    public void Ranks_are_checked()
    {
        var e = Host(FakeTensors.Make(DType.BFloat16, 2, 512, 64), B, null, Counts);
        Assert.That(e.ParamName, Is.EqualTo("a"));
        Assert.That(e.Message, Does.Contain("a must be 2-D [M, K] but has shape [2, 512, 64]"));
        e = Host(A, FakeTensors.Make(DType.BFloat16, 64, 128), null, Counts);
        Assert.That(e.Message, Does.Contain("b must be 3-D [E, K, N] but has shape [64, 128]"));
        e = Host(A, FakeTensors.Make(DType.BFloat16, 64, 128), null, Counts, transB: true);
        Assert.That(e.Message, Does.Contain("[E, N, K] (transB)"));
        e = Host(A, B, null, Counts, transA: true);
        Assert.That(e.Message, Does.Contain("b must be 2-D [M, N]"));
    }

    [Test]
    public void Dtypes_must_match_and_be_float()
    {
        var e = Host(A, FakeTensors.Make(DType.Float16, 4, 64, 128), null, Counts);
        Assert.That(e.Message, Does.Contain("a is BFloat16 but b is Float16"));
        e = Host(FakeTensors.Make(DType.Int32, 1024, 64), B, null, Counts);
        Assert.That(e.ParamName, Is.EqualTo("a"));
        Assert.That(e.Message, Does.Contain("a is Int32; grouped GEMM needs Float32, Float16 or BFloat16"));
    }

    [Test]
    public void Expert_count_must_match_b()
    {
        var e = Host(A, B, null, [512, 512, 0]);
        Assert.That(e.ParamName, Is.EqualTo("batchSizes"));
        Assert.That(e.Message, Does.Contain("b has 4 experts (b.Shape[0]) but batchSizes has 3 entries"));
        e = Host(A, FakeTensors.Make(DType.BFloat16, 0, 64, 128), null, []);
        Assert.That(e.Message, Does.Contain("batchSizes is empty"));
    }

    [Test]
    public void K_must_match()
    {
        var e = Host(A, FakeTensors.Make(DType.BFloat16, 4, 65, 128), null, Counts);
        Assert.That(e.ParamName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("a has K = 64 columns but b [E, K, N] = [4, 65, 128] has K = 65"));
        e = Host(A, FakeTensors.Make(DType.BFloat16, 4, 64, 128), null, Counts, transB: true);
        Assert.That(e.Message, Does.Contain("b [E, N, K] = [4, 64, 128] has K = 128"));
        e = Host(A, FakeTensors.Make(DType.BFloat16, 1000, 32), null, Counts, transA: true);
        Assert.That(e.Message, Does.Contain("a has 1024 rows but b has 1000 rows"));
    }

    [Test]
    public void Counts_must_be_non_negative_and_sum_to_m()
    {
        var negative = Assert.Throws<ArgumentOutOfRangeException>(
            () => GmmValidation.ValidateHostCounts(A, B, null, [256, 256, -2, 514], false, false, 0, Names));
        Assert.That(negative!.ParamName, Is.EqualTo("batchSizes"));
        Assert.That(negative.Message, Does.Contain("batchSizes[2] is -2"));
        var sum = Host(A, B, null, [250, 250, 250, 250]);
        Assert.That(sum.Message, Does.Contain("batchSizes sums to 1000 but a has 1024 rows"));
        var huge = Host(A, B, null, [long.MaxValue, long.MaxValue, 0, 0]);
        Assert.That(huge.Message, Does.Contain("sums to 18446744073709551614"));
    }

    [Test]
    public void TransA_with_transB_is_rejected()
    {
        var e = Host(A, FakeTensors.Make(DType.BFloat16, 1024, 32), null, Counts, transA: true, transB: true);
        Assert.That(e.Message, Does.Contain("transA and transB cannot both be set"));
    }

    [Test]
    public void Output_shape_dtype_and_aliasing_are_checked()
    {
        var e = Host(A, B, FakeTensors.Make(DType.BFloat16, 1024, 64), Counts);
        Assert.That(e.ParamName, Is.EqualTo("c"));
        Assert.That(e.Message, Does.Contain("c has shape [1024, 64] but the product needs [1024, 128]"));
        e = Host(A, FakeTensors.Make(DType.BFloat16, 1024, 32), FakeTensors.Make(DType.BFloat16, 1024, 32), Counts, transA: true);
        Assert.That(e.Message, Does.Contain("the product needs [4, 64, 32]"));
        e = Host(A, B, FakeTensors.Make(DType.Float32, 1024, 128), Counts);
        Assert.That(e.Message, Does.Contain("c is Float32 but a and b are BFloat16"));
        using DeviceTensor big = FakeTensors.Make(DType.BFloat16, 4096, 128);
        DeviceTensor aView = big.Slice(0, 1024).Reshape(1024, 128).Slice(0, 512).Reshape(1024, 64);
        e = Host(aView, B, big.Slice(500, 1024), Counts);
        Assert.That(e.Message, Does.Contain("c overlaps a"));
    }

    [Test]
    public void Device_counts_must_be_int64_1d_with_one_count_per_expert()
    {
        var e = Assert.Throws<ArgumentException>(() => GmmValidation.ValidateDeviceCounts(A, B, null, FakeTensors.Make(DType.Int32, 4), false, false, 0, Names));
        Assert.That(e!.ParamName, Is.EqualTo("batchSizes"));
        Assert.That(e.Message, Does.Contain("batchSizes must be an Int64 device tensor but is Int32"));
        e = Assert.Throws<ArgumentException>(() => GmmValidation.ValidateDeviceCounts(A, B, null, FakeTensors.Make(DType.Int64, 2, 2), false, false, 0, Names));
        Assert.That(e!.Message, Does.Contain("must be 1-D with one count per expert but has shape [2, 2]"));
        e = Assert.Throws<ArgumentException>(() => GmmValidation.ValidateDeviceCounts(A, B, null, FakeTensors.Make(DType.Int64, 5), false, false, 0, Names));
        Assert.That(e!.Message, Does.Contain("b has 4 experts (b.Shape[0]) but batchSizes has 5 entries"));
        e = Assert.Throws<ArgumentException>(() => GmmValidation.ValidateDeviceCounts(A, B, null, FakeTensors.On(1, DType.Int64, 4), false, false, 0, Names));
        Assert.That(e!.Message, Does.Contain("batchSizes is on device 1 but the context is on device 0"));
        Assert.DoesNotThrow(() => GmmValidation.ValidateDeviceCounts(A, B, null, FakeTensors.Make(DType.Int64, 4), false, false, 0, Names));
    }

    [Test]
    public void Tensors_must_be_on_the_context_device()
    {
        var e = Host(FakeTensors.On(1, DType.BFloat16, 1024, 64), B, null, Counts);
        Assert.That(e.ParamName, Is.EqualTo("a"));
        Assert.That(e.Message, Does.Contain("a is on device 1 but the context is on device 0"));
        e = Host(A, B, FakeTensors.On(2, DType.BFloat16, 1024, 128), Counts);
        Assert.That(e.Message, Does.Contain("c is on device 2"));
        e = Host(A, B, null, Counts, device: 3);
        Assert.That(e.Message, Does.Contain("a is on device 0 but the context is on device 3"));
    }

    [Test]
    public void Disposed_tensors_are_refused()
    {
        DeviceTensor a = FakeTensors.Make(DType.BFloat16, 1024, 64);
        DeviceTensor view = a.Reshape(64, 1024).Reshape(1024, 64);
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => GmmValidation.ValidateHostCounts(a, B, null, Counts, false, false, 0, Names));
        Assert.Throws<ObjectDisposedException>(() => GmmValidation.ValidateHostCounts(view, B, null, Counts, false, false, 0, Names));
        DeviceTensor c = FakeTensors.Make(DType.BFloat16, 1024, 128);
        c.Dispose();
        Assert.Throws<ObjectDisposedException>(() => GmmValidation.ValidateHostCounts(A, B, c, Counts, false, false, 0, Names));
    }

    [Test]
    public void Sizes_beyond_32_bits_validate_as_64_bit_numbers()
    {
        DeviceTensor a = FakeTensors.Make(DType.BFloat16, 300_000, 8192);
        DeviceTensor b = FakeTensors.Make(DType.BFloat16, 2, 8192, 8200);
        DeviceTensor c = FakeTensors.Make(DType.BFloat16, 300_000, 8200);
        GmmDims dims = GmmValidation.ValidateHostCounts(a, b, c, [100_000, 200_000], false, false, 0, Names);
        Assert.That(dims.M * dims.N, Is.GreaterThan((long)int.MaxValue));
        Assert.That(c.ElementCount, Is.EqualTo(2_460_000_000L));
    }

    [Test]
    public void Ops_messages_use_tgale96s_names_before_touching_the_gpu()
    {
        DeviceTensor x = FakeTensors.Make(DType.BFloat16, 1024, 64);
        DeviceTensor w = FakeTensors.Make(DType.BFloat16, 4, 64, 128);
        var e = Assert.Throws<ArgumentException>(() => Ops.Gmm(x, w, new long[] { 250, 250, 250, 250 }));
        Assert.That(e!.ParamName, Is.EqualTo("batchSizes"));
        Assert.That(e.Message, Does.Contain("batchSizes sums to 1000 but a has 1024 rows"));
        e = Assert.Throws<ArgumentException>(() => Ops.Gmm(x, FakeTensors.Make(DType.BFloat16, 4, 32, 128), new long[] { 256, 256, 256, 256 }));
        Assert.That(e!.Message, Does.Contain("a has K = 64 columns but b [E, K, N]"));
        e = Assert.Throws<ArgumentException>(() => Ops.Gmm(x, w, FakeTensors.Make(DType.Int32, 4)));
        Assert.That(e!.Message, Does.Contain("batchSizes must be an Int64 device tensor"));
        Assert.Throws<ArgumentNullException>(() => Ops.Gmm(x, w, (long[])null!));
    }

    [Test]
    public void Dense_gemm_shapes_are_checked()
    {
        DeviceTensor a = FakeTensors.Make(DType.Float16, 32, 64);
        GemmDims plain = GemmValidation.Validate(a, FakeTensors.Make(DType.Float16, 64, 16), null, false, false, 0);
        Assert.That(plain, Is.EqualTo(new GemmDims(1, 32, 16, 64, 0, 0, false)));
        GemmDims broadcast = GemmValidation.Validate(FakeTensors.Make(DType.Float16, 3, 32, 64), FakeTensors.Make(DType.Float16, 16, 64), null, false, true, 0);
        Assert.That(broadcast, Is.EqualTo(new GemmDims(3, 32, 16, 64, 32 * 64, 0, true)));
        var e = Assert.Throws<ArgumentException>(() => GemmValidation.Validate(a, FakeTensors.Make(DType.Float16, 63, 16), null, false, false, 0));
        Assert.That(e!.Message, Does.Contain("has K = 64 but b [63, 16] has K = 63"));
        e = Assert.Throws<ArgumentException>(() => GemmValidation.Validate(FakeTensors.Make(DType.Float16, 2, 32, 64), FakeTensors.Make(DType.Float16, 3, 64, 16), null, false, false, 0));
        Assert.That(e!.Message, Does.Contain("a has batch 2 but b has batch 3"));
        e = Assert.Throws<ArgumentException>(() => GemmValidation.Validate(a, FakeTensors.Make(DType.Float16, 64, 16), FakeTensors.Make(DType.Float16, 16, 32), false, false, 0));
        Assert.That(e!.Message, Does.Contain("c has shape [16, 32] but the product needs [32, 16]"));
    }

    [Test]
    public void Dense_gemm_with_an_empty_batch_has_an_empty_output()
    {
        // b [0, 3, 1] holds no matrix: a 2-D a shared by its 0 entries gives [0, M, N]. Taking the batch as the larger
        // of the two (1 for a 2-D operand) accepted a c [1, 3, 3] and let the kernel read b's matrix 0, which is not there.
        DeviceTensor a = FakeTensors.Make(DType.BFloat16, 3, 1);
        DeviceTensor b = FakeTensors.Make(DType.BFloat16, 0, 3, 1);
        GemmDims dims = GemmValidation.Validate(a, b, null, false, true, 0);
        Assert.That(dims.OutputShape(), Is.EqualTo(new long[] { 0, 3, 3 }));
        ArgumentAssert.Rejects(() => GemmValidation.Validate(a, b, FakeTensors.Make(DType.BFloat16, 1, 3, 3), false, true, 0), "c",
            "[0, 3, 3]");
        ArgumentAssert.Rejects(
            () => GemmValidation.Validate(FakeTensors.Make(DType.BFloat16, 0, 4, 2), FakeTensors.Make(DType.BFloat16, 2, 4),
                FakeTensors.Make(DType.BFloat16, 1, 4, 4), false, false, 0), "c", "[0, 4, 4]");
    }
}
