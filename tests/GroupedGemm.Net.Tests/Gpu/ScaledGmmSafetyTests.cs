using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// The scaled (FP8) grouped GEMM under misuse and at its edges, for each kernel: bad device counts write nothing outside
/// the output (and are named with CheckCounts), host counts are refused inside a stream capture without breaking it,
/// any expert count works (the cutlass-sm90 kernel's workspace layout depends on it), and an empty reduction or a single
/// expert gives the reference.
/// </summary>
internal sealed class ScaledGmmSafetyTests : GpuFixture
{
    private const int Experts = BadBatchSizes.Experts, M = BadBatchSizes.Rows, K = 64, N = 64, Guard = 32;

    private static readonly ScaledGemmKernel[] Kernels = [ScaledGemmKernel.Portable, ScaledGemmKernel.CutlassSm90];

    [Test]
    public void Bad_device_counts_write_nothing_outside_the_output(
        [ValueSource(typeof(BadBatchSizes), nameof(BadBatchSizes.Cases))] long[] bad,
        [ValueSource(nameof(Kernels))] ScaledGemmKernel kernel)
    {
        long[] good = [M, 0, 0, 0];
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), good, K, N, transB: true);
        using DeviceTensor counts = DeviceTensor.FromArray(good);
        using DeviceTensor buffer = DeviceTensor.Allocate(DType.BFloat16, Guard + (M * N) + Guard);
        // The output sits between two guard bands of poison inside one allocation (64 bytes in: 16-byte aligned).
        DeviceTensor output = buffer.Slice(Guard, M * N).Reshape(M, N);
        var options = new ScaledGmmOptions { Kernel = kernel };
        if (!Runs(() => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options), kernel))
            return;

        counts.CopyFrom<long>(bad);
        buffer.Poison();
        Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options);
        CudaDevice.Synchronize();
        ushort[] all = buffer.ToArray<ushort>();
        Assert.That(all.Take(Guard), Is.All.EqualTo((ushort)0xFFFF), "guard band before the output");
        Assert.That(all.Skip(Guard + (M * N)), Is.All.EqualTo((ushort)0xFFFF), "guard band after the output");

        var e = Assert.Throws<GroupedGemmException>(() => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts,
            output, true, options with { CheckCounts = true }));
        Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.InvalidCounts));
        TestContext.Out.WriteLine(e.Message);
    }

    [Test]
    public void Host_counts_are_refused_inside_a_capture_and_the_capture_survives(
        [Values(ScaledGemmKernel.Auto, ScaledGemmKernel.Portable)] ScaledGemmKernel kernel)
    {
        long[] counts = [100, 0, 156, 0];
        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), counts, K, N, transB: true);
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, M, N);
        using CudaStream stream = CudaStream.Create();
        var options = new ScaledGmmOptions { Kernel = kernel, Stream = stream };
        GroupedGemmException? refused = null;
        // Before the refusal, the offsets' pageable upload failed inside the capture and invalidated it, so that ending
        // the capture threw too.
        using CudaGraph graph = CudaGraph.Capture(stream, () => refused = Assert.Throws<GroupedGemmException>(
            () => Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options)));
        Assert.That(refused!.Status, Is.EqualTo(GroupedGemmStatus.NotSupported));
        Assert.That(refused.NativeMessage, Does.Contain("host batch sizes"));

        Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options);  // outside: fine
        stream.Synchronize();
        AssertClose(DeviceData.Download(output), op.Expected(counts), DType.BFloat16, $"{kernel} after the refusal");
    }

    [Test]
    public void Any_expert_count_matches_the_reference([Values(1, 3, 4, 5, 7, 33)] int experts,
        [ValueSource(nameof(Kernels))] ScaledGemmKernel kernel, [Values(false, true)] bool deviceCounts)
    {
        Random random = TestRandom.Create();
        // Rows spread unevenly, every third expert empty.
        long[] counts = Enumerable.Range(0, experts).Select(e => e % 3 == 1 ? 0L : random.Next(1, 70)).ToArray();
        using ScaledOperands op = ScaledOperands.Make(random, counts, K, 48, transB: true);
        using DeviceTensor? device = deviceCounts ? DeviceTensor.FromArray(counts) : null;
        using DeviceTensor output = DeviceTensor.Allocate(DType.BFloat16, counts.Sum(), 48);
        var options = new ScaledGmmOptions { Kernel = kernel };
        bool ran = Runs(() =>
        {
            if (device is null) Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, counts, output, true, options);
            else Context.GmmScaledInto(op.X, op.XScale, op.W, op.WScale, device, output, true, options);
        }, kernel);
        if (!ran) return;
        AssertClose(DeviceData.Download(output), op.Expected(counts), DType.BFloat16, $"{kernel}, {experts} experts");
    }

    [Test]
    public void An_empty_reduction_gives_zeros_and_one_expert_the_reference([Values(false, true)] bool transB)
    {
        long[] one = [77];
        using (ScaledOperands empty = ScaledOperands.Make(TestRandom.Create(), one, 0, N, transB))
        using (DeviceTensor output = Context.GmmScaled(empty.X, empty.XScale, empty.W, empty.WScale, one, transB))
        {
            Assert.That(DeviceData.Download(output), Is.All.EqualTo(0.0), "K = 0");
        }

        using ScaledOperands op = ScaledOperands.Make(TestRandom.Create(), one, K, N, transB);
        using DeviceTensor product = Context.GmmScaled(op.X, op.XScale, op.W, op.WScale, one, transB);
        AssertClose(DeviceData.Download(product), op.Expected(one), DType.BFloat16, $"one expert, transB={transB}");
    }

    /// <summary>Runs <paramref name="call"/>; false (with the reason printed) when the kernel does not take it here.</summary>
    private static bool Runs(Action call, ScaledGemmKernel kernel)
    {
        try
        {
            call();
            return true;
        }
        catch (GroupedGemmException e) when (e.Status is GroupedGemmStatus.BackendNotCompiled or GroupedGemmStatus.NotSupported)
        {
            Assert.Ignore($"{kernel} does not take the call here: {e.NativeMessage}");
            return false;
        }
    }
}
