namespace GroupedGemm;

/// <summary>The sizes of a validated scaled grouped GEMM, with the scale counts its mode needs.</summary>
internal readonly record struct ScaledGmmDims(long M, long K, long N, long Experts, long XScales, long WScales);

/// <summary>
/// Host-side checks of <see cref="GroupedGemmContext.GmmScaled"/>, mirroring the native gg_gmm_scaled: every message
/// names the argument and its values, and nothing reaches the native call that it would reject for shape or type.
/// </summary>
internal static class ScaledGmmValidation
{
    internal const long ScaleBlock = 128;

    /// <summary>The public methods' name for the options that carry the scale mode and the kernel.</summary>
    private static readonly string OptionsName = "options";

    private static readonly GmmNames Names = new("x", "w", "batchSizes", "output");

    /// <summary>The scale counts a mode needs: row-wise [M] and [E, N]; block-wise [M, ceil(K/128)] and [E, ceil(N/128), ceil(K/128)].</summary>
    /// <param name="mode">The scale mode.</param>
    /// <param name="m">Rows of x.</param>
    /// <param name="k">Inner size.</param>
    /// <param name="n">Output columns.</param>
    /// <param name="experts">Experts.</param>
    /// <returns>The element counts of the x and w scales, exact: a w with K = 0 holds no elements whatever E and N,
    /// while its row-wise scales still count E · N, which can pass int64 (then no scale tensor matches it).</returns>
    internal static (Int128 XScales, Int128 WScales) ScaleCounts(ScaleMode mode, long m, long k, long n, long experts) =>
        mode == ScaleMode.Rowwise
            ? (m, (Int128)experts * n)
            : ((Int128)m * Blocks(k), (Int128)experts * Blocks(n) * Blocks(k));

    /// <summary>The shapes of the scales, for messages.</summary>
    /// <param name="mode">The scale mode.</param>
    /// <returns>x's and w's scale shapes in words.</returns>
    internal static (string X, string W) ScaleShapes(ScaleMode mode) =>
        mode == ScaleMode.Rowwise ? ("[M]", "[E, N]") : ("[M, ceil(K/128)]", "[E, ceil(N/128), ceil(K/128)]");

    /// <summary>Validates a call; throws <see cref="ArgumentException"/> (or a subclass) naming the argument.</summary>
    /// <param name="x">[M, K], FP8.</param>
    /// <param name="xScale">Float32 scales of x.</param>
    /// <param name="w">[E, K, N] (or [E, N, K] with <paramref name="transB"/>), FP8.</param>
    /// <param name="wScale">Float32 scales of w.</param>
    /// <param name="counts">Batch sizes.</param>
    /// <param name="output">The bf16 output [M, N], or null when the method allocates it.</param>
    /// <param name="transB">Whether w is stored [E, N, K].</param>
    /// <param name="mode">The scale mode.</param>
    /// <param name="device">The context's device.</param>
    /// <param name="kernel">The kernel asked for (the options' <see cref="ScaledGmmOptions.Kernel"/>).</param>
    /// <returns>The sizes.</returns>
    internal static ScaledGmmDims Validate(DeviceTensor? x, DeviceTensor? xScale, DeviceTensor? w, DeviceTensor? wScale,
        BatchSizes counts, DeviceTensor? output, bool transB, ScaleMode mode, int device, ScaledGemmKernel kernel = ScaledGemmKernel.Auto)
    {
        // Named options: the public methods take the mode (and the kernel) in their options.
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(OptionsName, mode, $"options.ScaleMode {(int)mode} is not Rowwise or Blockwise.");
        if (!Enum.IsDefined(kernel))
            throw new ArgumentOutOfRangeException(OptionsName, kernel, $"options.Kernel {(int)kernel} is not a ScaledGemmKernel value.");
        RequireFp8(x, 2, "[M, K]", nameof(x));
        RequireFp8(w, 3, transB ? "[E, N, K]" : "[E, K, N]", nameof(w));
        long m = x!.Shape[0], k = x.Shape[1], experts = w!.Shape[0];
        long wk = transB ? w.Shape[2] : w.Shape[1], n = transB ? w.Shape[1] : w.Shape[2];
        if (wk != k)
        {
            throw new ArgumentException(
                $"w has shape {TensorShape.Format(w.Shape)} (K = {wk}{(transB ? ", transB" : "")}) but x has K = {k} ({TensorShape.Format(x.Shape)}).",
                nameof(w));
        }

        // As the grouped GEMM's shape rules: a call needs an expert (w [0, K, N] with no batch sizes would pass the rest).
        if (experts < 1)
            throw new ArgumentException($"w has shape {TensorShape.Format(w.Shape)}: a grouped GEMM needs at least one expert.", nameof(w));
        CheckCounts(counts, experts, m, device);
        (Int128 xScales, Int128 wScales) = ScaleCounts(mode, m, k, n, experts);
        (string xShape, string wShape) = ScaleShapes(mode);
        RequireScale(xScale, xScales, xShape, $"M = {m}, K = {k}", nameof(xScale));
        RequireScale(wScale, wScales, wShape, $"E = {experts}, N = {n}, K = {k}", nameof(wScale));

        foreach ((DeviceTensor t, string name) in new[] { (x, nameof(x)), (xScale!, nameof(xScale)), (w, nameof(w)), (wScale!, nameof(wScale)) })
            GmmValidation.CheckDevice(t, device, name);

        if (output is not null)
        {
            output.ThrowIfDisposed();
            if (output.DType != DType.BFloat16)
                throw new ArgumentException($"output is {output.DType}; the scaled grouped GEMM writes BFloat16.", nameof(output));
            if (output.Rank != 2 || output.Shape[0] != m || output.Shape[1] != n)
            {
                throw new ArgumentException(
                    $"output has shape {TensorShape.Format(output.Shape)} but the product needs [{m}, {n}].", nameof(output));
            }

            GmmValidation.CheckDevice(output, device, nameof(output));
            foreach ((DeviceTensor t, string name) in new[] { (x, nameof(x)), (xScale!, nameof(xScale)), (w, nameof(w)), (wScale!, nameof(wScale)) })
            {
                if (GmmValidation.Overlaps(output, t))
                    throw new ArgumentException($"output overlaps {name}; the output must not alias an input.", nameof(output));
            }
        }

        // Both counts equal their tensors' element counts by now, so they fit int64.
        return new ScaledGmmDims(m, k, n, experts, (long)xScales, (long)wScales);
    }

    private static long Blocks(long extent) => TensorShape.Blocks(extent, ScaleBlock);

    private static void RequireFp8(DeviceTensor? t, int rank, string layout, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        t.ThrowIfDisposed();
        if (!t.DType.IsFloat8())
            throw new ArgumentException($"{name} is {t.DType}; the scaled grouped GEMM needs Float8E4M3 or Float8E5M2.", name);
        GmmShapeRules.CheckRank(t.Shape, rank, layout, name);
    }

    private static void RequireScale(DeviceTensor? t, Int128 count, string shape, string sizes, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        t.ThrowIfDisposed();
        if (t.DType != DType.Float32)
            throw new ArgumentException($"{name} is {t.DType}; scales are Float32.", name);
        if (t.ElementCount != count)
        {
            throw new ArgumentException(
                $"{name} has shape {TensorShape.Format(t.Shape)} ({t.ElementCount} elements) but must hold {shape} = {count} scales ({sizes}).",
                name);
        }
    }

    private static void CheckCounts(BatchSizes counts, long experts, long m, int device)
    {
        if (counts.IsMissing) throw new ArgumentNullException(Names.Counts);
        if (counts.IsOnDevice)
        {
            DeviceTensor d = counts.DeviceCounts!;
            d.ThrowIfDisposed();
            if (d.DType != DType.Int64 || d.Rank != 1)
            {
                throw new ArgumentException(
                    $"batchSizes must be a 1-D Int64 device tensor but is {d.DType} {TensorShape.Format(d.Shape)}.", Names.Counts);
            }

            if (d.ElementCount != experts)
                throw new ArgumentException($"batchSizes has {d.ElementCount} counts but w has {experts} experts.", Names.Counts);
            GmmValidation.CheckDevice(d, device, Names.Counts);
            return;
        }

        ReadOnlySpan<long> host = counts.HostCounts.Span;
        if (host.Length != experts)
            throw new ArgumentException($"batchSizes has {host.Length} counts but w has {experts} experts.", Names.Counts);
        GmmShapeRules.CheckBatchSizes(host, m, Names);
    }
}
