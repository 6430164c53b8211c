using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// The scaled (FP8) grouped GEMM against <see cref="Fp8Reference.ScaledGmm"/>, the float64 product of the dequantized
/// inputs. Bound (row-wise scales): the products of two FP8 codes are exact in fp32 (4- and 3-bit significands), the
/// fp32 sums over K ≤ 512 add at most K·2^-24 ≈ 3e-5 relative, the two scale multiplications 2^-23 each, so the one
/// rounding of the output to bf16 (≈ 2^-9/√3 ≈ 1e-3 in the norm) dominates: the bf16 bound of
/// <see cref="DeviceData.Tolerance"/> (1.5e-2) holds with a margin of about 10×.
/// </summary>
internal sealed class ScaledGmmTests : GpuFixture
{
    private static readonly long[] Counts = [0, 37, 5, 90];  // an empty expert, and experts that straddle 64-row tiles
    // Multiples of 16 (the CUTLASS kernel's 16-byte TMA rows), but not of the portable kernel's 32-wide k step or 64-wide
    // tile, nor of the CUTLASS tiles.
    private const int K = 208;
    private const int N = 80;

    [Test]
    public void Row_wise_product_matches_the_dequantized_float64_reference(
        [Values(false, true)] bool transB,
        [Values(false, true)] bool deviceCounts,
        [Values(ScaledGemmKernel.Auto, ScaledGemmKernel.Portable, ScaledGemmKernel.CutlassSm90)] ScaledGemmKernel kernel)
    {
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, K, N, transB);
        using DeviceTensor? counts = deviceCounts ? DeviceTensor.FromArray(Counts, Counts.Length) : null;
        long m = Counts.Sum();
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, m, N);
        var options = new ScaledGmmOptions { Kernel = kernel };
        try
        {
            if (counts is null) Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, Counts, output, transB, options);
            else Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, transB, options);
        }
        catch (GroupedGemmException e) when (kernel == ScaledGemmKernel.CutlassSm90 &&
            e.Status is GroupedGemmStatus.BackendNotCompiled or GroupedGemmStatus.NotSupported)
        {
            Assert.Ignore($"CutlassSm90 does not take the call here: {e.NativeMessage}");
        }

        double[] expected = Fp8Reference.ScaledGmm(op.XCodes, op.XScales, op.WCodes, op.WScales, Counts, K, N, transB,
            ScaleMode.Rowwise);
        AssertClose(DeviceData.Download(output), expected, DType.BFloat16, $"{kernel} transB={transB} device counts={deviceCounts}");
    }

    /// <summary>
    /// A call captured in a CUDA graph replays with new device counts (the counts read on the device, the groups and,
    /// with block scales, the transposed scales and the groups' scale layouts rewritten by each replay): row-wise scales
    /// with K = 208, block scales with K = 384 (whole 128-deep blocks, which the cutlass-sm90 kernel takes).
    /// </summary>
    [Test]
    public void A_captured_call_replays_with_new_device_counts(
        [Values(ScaledGemmKernel.Portable, ScaledGemmKernel.CutlassSm90)] ScaledGemmKernel kernel,
        [Values(ScaleMode.Rowwise, ScaleMode.Blockwise)] ScaleMode mode)
    {
        int k = mode == ScaleMode.Blockwise ? 384 : K;
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, k, N, transB: true, mode: mode);
        long[] second = [90, 0, 37, 5];
        long m = Counts.Sum();
        using CudaStream stream = CudaStream.Create();
        using DeviceTensor counts = DeviceTensor.FromArray(Counts, Counts.Length);
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, m, N);
        var options = new ScaledGmmOptions { Kernel = kernel, Stream = stream, ScaleMode = mode };
        try
        {
            Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options);  // support check
        }
        catch (GroupedGemmException e) when (e.Status is GroupedGemmStatus.BackendNotCompiled or GroupedGemmStatus.NotSupported)
        {
            Assert.Ignore($"{kernel} does not take the call here: {e.NativeMessage}");
        }

        Context.Reserve(Counts.Length);
        ReplayWithCounts(stream, () => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options),
            counts, output, [Counts, second], op.Expected, $"{kernel} {mode}");
    }

    [Test]
    public void Portable_kernel_takes_every_fp8_pair([Values(DType.Float8E4M3, DType.Float8E5M2)] DType xType,
        [Values(DType.Float8E4M3, DType.Float8E5M2)] DType wType)
    {
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, K, N, transB: false, xType, wType);
        using DeviceTensor output = Context.GmmScaled(op.X, op.XScale, op.W, op.WScale, Counts,
            options: new ScaledGmmOptions { Kernel = ScaledGemmKernel.Portable });
        double[] expected = Fp8Reference.ScaledGmm(op.XCodes, op.XScales, op.WCodes, op.WScales, Counts, K, N, false,
            ScaleMode.Rowwise, xType, wType);
        AssertClose(DeviceData.Download(output), expected, DType.BFloat16, $"{xType} x {wType}");
    }

    [Test]
    public void A_non_finite_scale_is_named_with_check_scales_and_confined_without()
    {
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, K, N, transB: false);
        float[] bad = (float[])op.WScales.Clone();
        bad[(2 * N) + 3] = float.NaN;  // expert 2, column 3
        op.WScale.CopyFrom<float>(bad);
        var e = Assert.Throws<GroupedGemmException>(() => Context.GmmScaled(op.X, op.XScale, op.W, op.WScale, Counts,
            options: new ScaledGmmOptions { CheckScales = true }).Dispose());
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.InvalidArgument));
        Assert.That(e.NativeMessage, Does.Contain($"b_scale[{(2 * N) + 3}]"));

        using DeviceTensor output = Context.GmmScaled(op.X, op.XScale, op.W, op.WScale, Counts);
        double[] c = DeviceData.Download(output);
        long first = Counts[0] + Counts[1], last = first + Counts[2];  // expert 2's rows
        for (long r = 0; r < Counts.Sum(); r++)
        {
            for (int j = 0; j < N; j++)
            {
                bool scaledByNan = r >= first && r < last && j == 3;
                Assert.That(double.IsNaN(c[(r * N) + j]), Is.EqualTo(scaledByNan), $"row {r}, column {j}");
            }
        }
    }

    /// <summary>
    /// Block scales (DeepGEMM's: x per row and 128-deep block of K, w per expert and 128x128 block of (N, K)) on the
    /// portable kernel, which scales each block's fp32 sum before adding it: K = 208 ends in a partial block, N = 272 makes
    /// three column blocks, the last partial, and row tiles straddle experts as above. Same bound as row-wise: each
    /// block's scaling is two fp32 multiplications more.
    /// </summary>
    [Test]
    public void Block_scales_match_the_dequantized_float64_reference(
        [Values(false, true)] bool transB,
        [Values(false, true)] bool deviceCounts,
        [Values(ScaledGemmKernel.Auto, ScaledGemmKernel.Portable)] ScaledGemmKernel kernel,
        [Values(80, 272)] int n)
    {
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, K, n, transB, mode: ScaleMode.Blockwise);
        using DeviceTensor? counts = deviceCounts ? DeviceTensor.FromArray(Counts, Counts.Length) : null;
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, Counts.Sum(), n);
        output.Poison();
        var options = new ScaledGmmOptions { Kernel = kernel, ScaleMode = ScaleMode.Blockwise };
        if (counts is null) Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, Counts, output, transB, options);
        else Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, transB, options);
        AssertClose(DeviceData.Download(output), op.Expected(Counts), DType.BFloat16,
            $"block scales {kernel} transB={transB} device counts={deviceCounts} n={n}");
    }

    /// <summary>
    /// Block scales on the cutlass-sm90 kernel: K = 384 (whole 128-deep scale blocks) and K = 400 (a last block of 16,
    /// which the kernel reads zero-filled past K), N = 80 (one partial 128-wide scale block) and 272 (three, the last
    /// partial), weights [E, N, K]; ignored on other devices and builds.
    /// </summary>
    [Test]
    public void Block_scales_on_cutlass_sm90_match_the_dequantized_float64_reference(
        [Values(false, true)] bool deviceCounts,
        [Values(80, 272)] int n,
        [Values(384, 400)] int k)
    {
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), Counts, k, n, transB: true, mode: ScaleMode.Blockwise);
        using DeviceTensor? counts = deviceCounts ? DeviceTensor.FromArray(Counts, Counts.Length) : null;
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, Counts.Sum(), n);
        output.Poison();
        var options = new ScaledGmmOptions { Kernel = ScaledGemmKernel.CutlassSm90, ScaleMode = ScaleMode.Blockwise };
        try
        {
            if (counts is null) Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, Counts, output, transB: true, options);
            else Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, transB: true, options);
        }
        catch (GroupedGemmException e) when (e.Status is GroupedGemmStatus.NotSupported or GroupedGemmStatus.BackendNotCompiled)
        {
            Assert.Ignore($"cutlass-sm90 does not run here: {e.NativeMessage}");
        }

        AssertClose(DeviceData.Download(output), op.Expected(Counts), DType.BFloat16,
            $"block scales cutlass-sm90 device counts={deviceCounts} n={n} k={k}");
    }

    [Test]
    public void Quantize_kernels_match_the_reference_code_for_code([Values(0, 128)] int blockCols,
        [Values(false, true)] bool powerOfTwoScales)
    {
        const int Rows = 33, Cols = 300;
        Random random = TestRandom.Create();
        float[] x = Array.ConvertAll(TestRandom.Uniform(random, Rows * Cols), v => (float)(BFloat16)(float)(v * 10));
        using DeviceTensor source = DeviceTensor.FromArray(Array.ConvertAll(x, v => (BFloat16)v), Rows, Cols);
        using DeviceTensor q = DeviceTensor.Allocate(DType.Float8E4M3, Rows, Cols);
        int blocks = blockCols == 0 ? 1 : (Cols + blockCols - 1) / blockCols;
        using DeviceTensor scales = DeviceTensor.Allocate(DType.Float32, Rows * blocks);
        MoeKernels.QuantizeFp8Rows(source, q, scales, blockCols, powerOfTwoScales: powerOfTwoScales);

        byte[] expectedQ = new byte[Rows * Cols];
        float[] expectedScales = new float[Rows * blocks];
        Fp8Reference.QuantizeRows(x, Rows, Cols, blockCols, DType.Float8E4M3, expectedQ, expectedScales, powerOfTwoScales);
        Assert.That(scales.ToArray<float>(), Is.EqualTo(expectedScales));
        Assert.That(q.ToArray<byte>(), Is.EqualTo(expectedQ));

        // Gathered: rows in reverse order through a divisor of 2, with one dropped slot (-1).
        int[] index = Enumerable.Range(0, Rows).Select(i => i == 5 ? -1 : 2 * (Rows - 1 - i)).ToArray();
        using DeviceTensor indexTensor = DeviceTensor.FromArray(index, Rows);
        MoeKernels.GatherQuantizeFp8(source, indexTensor, 2, q, scales, blockCols, powerOfTwoScales: powerOfTwoScales);
        byte[] gotQ = q.ToArray<byte>();
        float[] gotScales = scales.ToArray<float>();
        for (int i = 0; i < Rows; i++)
        {
            int src = index[i] < 0 ? -1 : index[i] / 2;
            for (int b = 0; b < blocks; b++)
                Assert.That(gotScales[(i * blocks) + b], Is.EqualTo(src < 0 ? 1f : expectedScales[(src * blocks) + b]), $"row {i}");
            for (int c = 0; c < Cols; c++)
                Assert.That(gotQ[(i * Cols) + c], Is.EqualTo(src < 0 ? (byte)0 : expectedQ[(src * Cols) + c]), $"row {i}, column {c}");
        }
    }

    [Test]
    public void Block_quantize_matches_the_reference_code_for_code([Values(false, true)] bool powerOfTwoScales)
    {
        const int Batch = 3, Rows = 200, Cols = 130, Block = 128;
        Random random = TestRandom.Create();
        float[] w = Array.ConvertAll(TestRandom.Uniform(random, Batch * Rows * Cols), v => (float)v);
        using DeviceTensor source = DeviceTensor.FromArray(w, Batch, Rows, Cols);
        using DeviceTensor q = DeviceTensor.Allocate(DType.Float8E4M3, Batch, Rows, Cols);
        using DeviceTensor scales = DeviceTensor.Allocate(DType.Float32, Batch, 2, 2);
        MoeKernels.QuantizeFp8Blocks(source, q, scales, Block, powerOfTwoScales: powerOfTwoScales);
        byte[] expectedQ = new byte[w.Length];
        float[] expectedScales = new float[Batch * 4];
        Fp8Reference.QuantizeBlocks(w, Batch, Rows, Cols, Block, DType.Float8E4M3, expectedQ, expectedScales, powerOfTwoScales);
        Assert.That(scales.ToArray<float>(), Is.EqualTo(expectedScales));
        Assert.That(q.ToArray<byte>(), Is.EqualTo(expectedQ));
    }
}
