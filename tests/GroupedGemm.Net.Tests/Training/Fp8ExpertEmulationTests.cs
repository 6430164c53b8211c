using GroupedGemm.MoE;
using NUnit.Framework;

namespace GroupedGemm.Tests.Training;

/// <summary>
/// What E4M3 costs the sample's layer (<c>--dtype float8</c>), on the CPU: the float64 emulation of the FP8-expert path
/// (routed experts' rows and weights quantized per row and per (expert, column), or in DeepGEMM's 1×128 and 128×128
/// blocks, <see cref="MoeLayer.Reference(ReadOnlySpan{double}, int, ReadOnlySpan{int}, bool)"/>) against the unquantized
/// float64 layer with the same routing. This is the yardstick of the sample's FP8 bound (5e-2): the emulation must sit
/// inside it with room, and must differ visibly (it quantized).
/// </summary>
[TestFixture]
internal sealed class Fp8ExpertEmulationTests
{
    [Test]
    public void The_fp8_emulation_costs_the_layer_a_few_percent(
        [Values(false, true)] bool gated,
        [Values(64, 512)] int embedDim,
        [Values(ScaleMode.Rowwise, ScaleMode.Blockwise)] ScaleMode scales)
    {
        var options = new MoeOptions(1, 32, embedDim, 2 * embedDim, 8, 2, 1, DType.BFloat16, gated,
            gated ? Activation.Silu : Activation.Gelu, Routing.Uniform, false, 1, 0, 5, 32) { Fp8Experts = true, Fp8Scales = scales };
        using var layer = new MoeLayer(options, onDevice: false);
        float[] x = HostValues.Uniform(new Random(6), (long)options.Tokens * embedDim, 1, DType.BFloat16);
        var exact = new List<double>();
        var emulated = new List<double>();
        for (int t = 0; t < options.Tokens; t++)
        {
            double[] row = x.AsSpan(t * embedDim, embedDim).ToArray().Select(v => (double)v).ToArray();
            (double[] plain, _, int[] experts) = layer.Reference(row, t, ReadOnlySpan<int>.Empty);
            (double[] fp8, _, _) = layer.Reference(row, t, experts, fp8Experts: true);
            exact.AddRange(plain);
            emulated.AddRange(fp8);
        }

        double cost = ReferenceMath.RelativeError(emulated.ToArray(), exact.ToArray());
        TestContext.Out.WriteLine($"gated {gated}, D {embedDim}, {scales}: the FP8 emulation is {cost:E3} from the float64 layer");
        Assert.That(cost, Is.GreaterThan(1e-3), "the emulation did not quantize");
        // Measured 1.1-1.5e-2 on these four layers; the sample's FP8 bound against float64 (5e-2) rests on it.
        Assert.That(cost, Is.LessThan(3e-2), "E4M3 with row-wise scales costs this layer about 1.5e-2");
    }
}
