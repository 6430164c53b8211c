using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>The host checks of the scaled grouped GEMM, with their messages (no GPU needed).</summary>
[TestFixture]
public class ScaledGmmValidationTests
{
    private static readonly long[] Counts = [2, 0, 2];

    private static DeviceTensor X => FakeTensors.Make(DType.Float8E4M3, 4, 64);
    private static DeviceTensor W => FakeTensors.Make(DType.Float8E4M3, 3, 64, 32);
    private static DeviceTensor XScale => FakeTensors.Make(DType.Float32, 4);
    private static DeviceTensor WScale => FakeTensors.Make(DType.Float32, 3, 32);

    private static ScaledGmmDims Validate(DeviceTensor? x, DeviceTensor? xs, DeviceTensor? w, DeviceTensor? ws,
        BatchSizes counts, DeviceTensor? output = null, bool transB = false, ScaleMode mode = ScaleMode.Rowwise) =>
        ScaledGmmValidation.Validate(x, xs, w, ws, counts, output, transB, mode, 0);

    [Test]
    public void A_valid_call_yields_its_sizes_and_scale_counts()
    {
        Assert.That(Validate(X, XScale, W, WScale, Counts, FakeTensors.Make(DType.BFloat16, 4, 32)),
            Is.EqualTo(new ScaledGmmDims(4, 64, 32, 3, 4, 96)));
        Assert.That(Validate(X, XScale, FakeTensors.Make(DType.Float8E5M2, 3, 32, 64), WScale, Counts, transB: true).N, Is.EqualTo(32));
        ScaledGmmDims block = Validate(X, FakeTensors.Make(DType.Float32, 4, 1), W, FakeTensors.Make(DType.Float32, 3, 1, 1),
            Counts, mode: ScaleMode.Blockwise);
        Assert.That((block.XScales, block.WScales), Is.EqualTo((4L, 3L)));
    }

    [Test]
    public void Scale_counts_beyond_int64_are_refused_by_name()
    {
        // A w with no K holds no elements, whatever E and N; its row-wise scales [E, N] still count E · N. (The other
        // counts cannot pass int64 where their operand does not: each is at most its operand's elements, or 0.)
        const long E = 1L << 40, N = 1L << 40;
        DeviceTensor x = FakeTensors.Make(DType.Float8E4M3, 4, 0);
        DeviceTensor w = FakeTensors.Make(DType.Float8E4M3, E, 0, N);
        BatchSizes counts = FakeTensors.Make(DType.Int64, E);
        ArgumentAssert.Rejects(() => Validate(x, XScale, w, WScale, counts), "wScale",
            "[E, N] = 1208925819614629174706176 scales");
    }

    [Test]
    public void Null_scales_are_named()
    {
        Assert.Throws(Is.InstanceOf<ArgumentNullException>().With.Property("ParamName").EqualTo("xScale"),
            () => Validate(X, null, W, WScale, Counts));
        Assert.Throws(Is.InstanceOf<ArgumentNullException>().With.Property("ParamName").EqualTo("wScale"),
            () => Validate(X, XScale, W, null, Counts));
    }

    [Test]
    public void Wrong_scale_shapes_name_the_shape_they_need()
    {
        ArgumentAssert.Rejects(() => Validate(X, FakeTensors.Make(DType.Float32, 3), W, WScale, Counts), "xScale",
            "xScale has shape [3] (3 elements) but must hold [M] = 4 scales (M = 4, K = 64)");
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, FakeTensors.Make(DType.Float32, 32), Counts), "wScale",
            "must hold [E, N] = 96 scales");
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, WScale, Counts, mode: ScaleMode.Blockwise), "wScale",
            "must hold [E, ceil(N/128), ceil(K/128)] = 3 scales");
        ArgumentAssert.Rejects(() => Validate(X, FakeTensors.Make(DType.BFloat16, 4), W, WScale, Counts), "xScale",
            "scales are Float32");
    }

    [Test]
    public void Operand_types_shapes_and_output_are_checked()
    {
        ArgumentAssert.Rejects(() => Validate(FakeTensors.Make(DType.BFloat16, 4, 64), XScale, W, WScale, Counts), "x",
            "needs Float8E4M3 or Float8E5M2");
        ArgumentAssert.Rejects(() => Validate(X, XScale, FakeTensors.Make(DType.Float8E4M3, 3, 32, 32), WScale, Counts), "w",
            "but x has K = 64");
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, WScale, new long[] { 2, 2 }), "batchSizes",
            "2 counts but w has 3 experts");
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, WScale, new long[] { 2, 1, 2 }), "batchSizes", "sums to 5");
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, WScale, Counts, FakeTensors.Make(DType.Float16, 4, 32)), "output",
            "writes BFloat16");
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, WScale, Counts, FakeTensors.Make(DType.BFloat16, 4, 31)), "output",
            "needs [4, 32]");
        ArgumentAssert.Rejects(() => Validate(X, FakeTensors.On(1, DType.Float32, 4), W, WScale, Counts), "xScale",
            "on device 1");
    }

    [Test]
    public void An_output_over_a_scale_is_refused()
    {
        DeviceTensor ws = WScale;
        DeviceTensor output = DeviceTensor.Wrap(ws.Pointer, DType.BFloat16, [4, 32], 0);
        ArgumentAssert.Rejects(() => Validate(X, XScale, W, ws, Counts, output), "output", "output overlaps wScale");
    }
}
