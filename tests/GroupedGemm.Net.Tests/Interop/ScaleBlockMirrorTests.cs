using System.Text.RegularExpressions;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Interop;

/// <summary>
/// The FP8 block-scale edge (128: 1x128 activation blocks along K, 128x128 weight blocks) is the native library's
/// <c>kScaleBlock</c> (native/src/core/scaled_validate.h). The managed validation and float64 reference
/// (<see cref="ScaledGmmValidation.ScaleBlock"/>), the MoE sample's block scales (<see cref="GroupedGemm.MoE.Fp8Scaling.Block"/>)
/// and bench/fp8_bench.py's <c>SCALE_BLOCK</c> (which native/tests/fp8_parity.py imports) restate it, since none can
/// include the header; this test ties each to it.
/// No GPU, no Python.
/// </summary>
[TestFixture]
public sealed class ScaleBlockMirrorTests
{
    private const string HeaderPath = "native/src/core/scaled_validate.h";

    private static long Native()
    {
        Match m = Regex.Match(File.ReadAllText(Checkout.PathOf(HeaderPath)), @"constexpr\s+int64_t\s+kScaleBlock\s*=\s*(\d+)\s*;");
        Assert.That(m.Success, Is.True, $"{HeaderPath}: no 'constexpr int64_t kScaleBlock = N;' (the parser lost it)");
        return long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The managed constant is the header's.</summary>
    [Test]
    public void Managed_scale_block_is_the_headers() =>
        Assert.That(Native(), Is.EqualTo(ScaledGmmValidation.ScaleBlock), $"{HeaderPath} against ScaledGmmValidation.ScaleBlock");

    /// <summary>The MoE sample's block edge is the header's.</summary>
    [Test]
    public void Sample_scale_block_is_the_headers() =>
        Assert.That(Native(), Is.EqualTo(GroupedGemm.MoE.Fp8Scaling.Block), $"{HeaderPath} against the MoE sample's Fp8Scaling.Block");

    /// <summary>fp8_bench.py's SCALE_BLOCK (the benchmark's and the parity script's block quantizer) is the header's.</summary>
    [Test]
    public void Python_scale_block_is_the_headers()
    {
        const string script = "bench/fp8_bench.py";
        Match m = Regex.Match(File.ReadAllText(Checkout.PathOf(script)), @"^SCALE_BLOCK\s*=\s*(\d+)", RegexOptions.Multiline);
        Assert.That(m.Success, Is.True, $"{script}: no 'SCALE_BLOCK = N' line (the parser lost it)");
        Assert.That(long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(Native()),
            $"{script} SCALE_BLOCK against {HeaderPath}");
    }
}
