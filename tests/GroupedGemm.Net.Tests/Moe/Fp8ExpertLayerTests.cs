using GroupedGemm.MoE;
using GroupedGemm.Tests.Gpu;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// The sample's <c>--dtype float8</c> path (<see cref="MoeLayer.ForwardGroupedFp8"/>: the routed experts on the scaled
/// grouped GEMM with E4M3 rows and weights, row-wise or block scales) against the float64 layer and against the bf16 grouped path
/// of the same layer: within the bf16 bound of its float64 emulation (the same E4M3 rounding on the host), within the FP8
/// bound of the float64 output, and visibly different from the bf16 path (so that a path which silently ran in bf16 fails).
/// </summary>
[TestFixture]
[Category("Gpu")]
internal sealed class Fp8ExpertLayerTests : GpuFixture
{
    [Test]
    public void The_fp8_expert_layer_is_within_its_bound_of_float64([Values(false, true)] bool gated,
        [Values(ScaleMode.Rowwise, ScaleMode.Blockwise)] ScaleMode scales,
        [Values(64, 256)] int embedDim)
    {
        // D 64: block scales of one partial 128-column block per row (the portable kernel); D 256 and H 512: whole blocks,
        // the cutlass-sm90 kernel on Hopper.
        var options = new MoeOptions(1, 64, embedDim, 2 * embedDim, 8, 2, 1, DType.BFloat16, gated, gated ? Activation.Silu : Activation.Gelu,
            Routing.Uniform, false, 1, 0, 11, 64) { Fp8Experts = true, Fp8Scales = scales };
        using var layer = new MoeLayer(options, onDevice: true);
        using var pool = new DevicePool();
        using CudaStream stream = CudaStream.Create();
        float[] x = HostValues.Uniform(new Random(12), (long)options.Tokens * options.EmbedDim, 1, DType.BFloat16);
        using DeviceTensor xDevice = HostValues.Upload(x, DType.BFloat16, options.Tokens, options.EmbedDim);
        CudaDevice.Synchronize();

        double[] fp8 = Forward(layer.ForwardGroupedFp8(Context, xDevice, pool, stream), pool, stream);
        double[] bf16 = Forward(layer.ForwardGrouped(Context, xDevice, pool, stream), pool, stream);
        int[] routing = layer.DeviceRouting(Context, xDevice, pool, stream);
        var expected = new double[fp8.Length];
        var emulated = new double[fp8.Length];
        for (int t = 0; t < options.Tokens; t++)
        {
            double[] row = x.AsSpan(t * options.EmbedDim, options.EmbedDim).ToArray().Select(v => (double)v).ToArray();
            ReadOnlySpan<int> chosen = routing.AsSpan(t * options.TopK, options.TopK);
            layer.Reference(row, t, chosen).Output.CopyTo(expected, t * options.EmbedDim);
            layer.Reference(row, t, chosen, fp8Experts: true).Output.CopyTo(emulated, t * options.EmbedDim);
        }

        double fp8Error = ReferenceMath.RelativeError(fp8, expected), bf16Error = ReferenceMath.RelativeError(bf16, expected);
        double parity = ReferenceMath.RelativeError(fp8, emulated), between = ReferenceMath.RelativeError(fp8, bf16);
        TestContext.Out.WriteLine($"gated {gated}, {scales}, D {embedDim}: FP8 experts {fp8Error:E3}, bf16 {bf16Error:E3} against float64; FP8 against its " +
                                  $"float64 emulation {parity:E3}; FP8 against bf16 {between:E3}");
        Assert.That(bf16Error, Is.LessThan(3e-2), "the bf16 path");
        Assert.That(parity, Is.LessThan(3e-2), "the FP8-expert path against its float64 emulation (bf16 roundings only)");
        Assert.That(fp8Error, Is.LessThan(5e-2), "the FP8-expert path (its emulation alone: 1.1-1.5e-2)");
        Assert.That(between, Is.GreaterThan(1e-3), "the FP8-expert path gives the bf16 path's output: it did not quantize");
    }

    private static double[] Forward(DeviceTensor output, DevicePool pool, CudaStream stream)
    {
        float[] values = HostValues.Download(output, stream);
        pool.Return(output);
        return values.Select(v => (double)v).ToArray();
    }
}
