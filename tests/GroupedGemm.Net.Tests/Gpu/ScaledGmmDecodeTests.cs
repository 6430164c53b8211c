using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// The decode kernel (<see cref="ScaledGemmKernel.Decode"/>: FP8 mma.sync from global memory, groups of 16 rows of one
/// expert) against <see cref="Fp8Reference.ScaledGmm"/>, with the bf16 bound of the other scaled kernels' tests
/// (<see cref="ScaledGmmTests"/>: the output's one bf16 rounding dominates). It runs where the library's FP8 mma code
/// loads (Hopper); on other devices every test here checks that it is refused, by name.
/// </summary>
internal sealed class ScaledGmmDecodeTests : GpuFixture
{
    // An empty expert, experts of 37 and 90 rows (3 and 6 groups of 16, the last ones partial) and one of 5.
    private static readonly long[] Counts = [0, 37, 5, 90];

    // Whether the library runs its FP8 mma code here: the package's builds carry it as sm_90a code, which Hopper loads
    // (an Ada card, 8.9, would load the sm_80 code, and newer ones JIT the compute_80 PTX, where the kernel is empty).
    private static bool HasFp8Mma => CudaDevice.GetProperties(0).Major == 9;

    /// <summary>
    /// K = 208 ends in a partial 128-deep chunk, N = 80 in a partial block of 32 columns, N = 20 in a partial group of 8;
    /// N = 2600 makes 82 column blocks for a grid of 79 along y (13 group blocks: decode_groups::grid_column_blocks), so
    /// three blocks of each group walk two column blocks, the last one partial.
    /// </summary>
    [Test]
    public void Decode_matches_the_dequantized_float64_reference(
        [Values(ScaleMode.Rowwise, ScaleMode.Blockwise)] ScaleMode mode,
        [Values(false, true)] bool deviceCounts,
        [Values(80, 20, 2600)] int n)
    {
        const int K = 208;
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, K, n, transB: true, mode: mode);
        using DeviceTensor? counts = deviceCounts ? DeviceTensor.FromArray(Counts, Counts.Length) : null;
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, Counts.Sum(), n);
        output.Poison();
        var options = new ScaledGmmOptions { Kernel = ScaledGemmKernel.Decode, ScaleMode = mode };
        if (!RunsHere(() =>
            {
                if (counts is null) Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, Counts, output, transB: true, options);
                else Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, transB: true, options);
            }))
        {
            return;
        }

        AssertClose(DeviceData.Download(output), op.Expected(Counts), DType.BFloat16,
            $"decode {mode} device counts={deviceCounts} n={n}");
    }

    [Test]
    public void Decode_takes_every_fp8_pair([Values(DType.Float8E4M3, DType.Float8E5M2)] DType xType,
        [Values(DType.Float8E4M3, DType.Float8E5M2)] DType wType,
        [Values(ScaleMode.Rowwise, ScaleMode.Blockwise)] ScaleMode mode)
    {
        const int K = 384, N = 64;
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, K, N, transB: true, xType, wType, mode);
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, Counts.Sum(), N);
        output.Poison();
        var options = new ScaledGmmOptions { Kernel = ScaledGemmKernel.Decode, ScaleMode = mode };
        if (!RunsHere(() => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, Counts, output, transB: true, options)))
        {
            return;
        }

        AssertClose(DeviceData.Download(output), op.Expected(Counts), DType.BFloat16, $"decode {xType} x {wType} {mode}");
    }

    /// <summary>
    /// One token's rows over many experts (8 live of 128, one row each) and the same rows on one expert, as device counts
    /// that a captured call reads on every replay: each block scans the counts itself, so nothing else is rewritten.
    /// </summary>
    [Test]
    public void A_captured_decode_call_replays_with_new_device_counts([Values(ScaleMode.Rowwise, ScaleMode.Blockwise)] ScaleMode mode)
    {
        const int Experts = 128, K = 256, N = 96;
        long[] spread = Enumerable.Range(0, Experts).Select(e => e % 16 == 3 ? 1L : 0L).ToArray();
        long[] one = new long[Experts];
        one[77] = spread.Sum();
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), spread, K, N, transB: true, mode: mode);
        using CudaStream stream = CudaStream.Create();
        using DeviceTensor counts = DeviceTensor.FromArray(spread, Experts);
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, spread.Sum(), N);
        var options = new ScaledGmmOptions { Kernel = ScaledGemmKernel.Decode, Stream = stream, ScaleMode = mode };
        if (!RunsHere(() => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options)))
        {
            return;
        }

        Context.Reserve(Experts);
        ReplayWithCounts(stream, () => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options),
            counts, output, [spread, one], op.Expected, $"decode {mode}");
    }

    [Test]
    public void Decode_refuses_what_it_does_not_take_and_names_it()
    {
        using ScaledOperands forward = ScaledOperands.Make(TestRandom.Create(), Counts, 208, 80, transB: false);
        var options = new ScaledGmmOptions { Kernel = ScaledGemmKernel.Decode };
        var e = Assert.Throws<GroupedGemmException>(() => Context.GmmScaled(forward.X, forward.XScale, forward.W,
            forward.WScale, Counts, options: options).Dispose());
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.NotSupported));
        Assert.That(e.NativeMessage, Does.Contain(HasFp8Mma ? "trans_b" : "FP8 mma"));

        long[] many = [200, 57];  // m = 257: past the kernel's 256 rows
        using ScaledOperands tall = ScaledOperands.Make(TestRandom.Create(), many, 64, 32, transB: true);
        e = Assert.Throws<GroupedGemmException>(() => Context.GmmScaled(tall.X, tall.XScale, tall.W, tall.WScale, many,
            transB: true, options: options).Dispose());
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.NotSupported));
        Assert.That(e.NativeMessage, Does.Contain(HasFp8Mma ? "m = 257" : "FP8 mma"));
    }

    // Runs `call`; false (after checking that the refusal names FP8 mma) on a device without it.
    private static bool RunsHere(Action call)
    {
        if (HasFp8Mma)
        {
            call();
            return true;
        }

        var e = Assert.Throws<GroupedGemmException>(() => call());
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.NotSupported));
        Assert.That(e.NativeMessage, Does.Contain("FP8 mma"));
        return false;
    }
}
