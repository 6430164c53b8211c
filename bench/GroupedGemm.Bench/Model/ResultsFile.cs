namespace GroupedGemm.Bench.Model;

/// <summary>
/// Timings written by either half of the benchmark (schema <see cref="SchemaName"/>): <c>torch_baseline.py</c> or
/// <c>GroupedGemm.Bench run</c>. One <see cref="ResultGroup"/> per (problem, dtype, form); its series were timed
/// round-robin in one loop.
/// </summary>
internal sealed record ResultsFile(
    string Schema,
    string Tool,
    IReadOnlyDictionary<string, string> Environment,
    RunSettings Settings,
    IReadOnlyList<ResultGroup> Groups)
{
    /// <summary>The schema both tools write.</summary>
    public const string SchemaName = "groupedgemm-bench-results/1";

    /// <summary>Results of the <c>--verify</c> check (ours only; absent when it was not asked for).</summary>
    public IReadOnlyList<VerifyResult>? Verification { get; init; }

    /// <summary>Throws <see cref="InvalidDataException"/> when the file is not one of ours.</summary>
    public void Validate(string path)
    {
        if (Schema != SchemaName)
            throw new InvalidDataException($"{path}: schema '{Schema}', expected '{SchemaName}'.");
        if (Groups is null)
            throw new InvalidDataException($"{path}: no 'groups'.");
    }
}

/// <summary>How the timings were taken.</summary>
internal sealed record RunSettings(int Warmup, int Iters, long Seed, string Timing);

/// <summary>The series timed together for one problem, element type and form.</summary>
internal sealed record ResultGroup(
    string Problem, string Dtype, string Form, double Flops, int BufferSets, IReadOnlyList<SeriesResult> Series)
{
    /// <summary>
    /// The sweep's groups (torch_baseline.py time_round_robin): "eager" (a call between two events), "graph xN" (N
    /// calls captured in a CUDA graph, a replay between two events, time / N), or "eager (capture failed: ...)";
    /// absent in files written before the sweep timed decode groups from graphs, which were eager.
    /// </summary>
    public string? Timing { get; init; }
}

/// <summary>One series: its raw timings, or why it did not run.</summary>
/// <param name="Name">Display name.</param>
/// <param name="Kind">One of <see cref="SeriesKinds"/>.</param>
/// <param name="Status"><c>ok</c>, <c>unsupported</c>, <c>not compiled</c>, <c>out of memory</c> or <c>error</c>.</param>
/// <param name="Note">Why it did not run, or a remark on how it ran.</param>
/// <param name="TimesMs">Every timed call, milliseconds, in order.</param>
/// <param name="MedianMs">Median of <paramref name="TimesMs"/>.</param>
/// <param name="Tflops">Useful FLOPs over the median time, 10^12 per second.</param>
internal sealed record SeriesResult(
    string Name, string Kind, string Status, string Note, IReadOnlyList<double> TimesMs, double? MedianMs, double? Tflops)
{
    /// <summary>Ours (either kind) only: the backend asked for ("auto", "cublas-loop", ...).</summary>
    public string? Backend { get; init; }

    /// <summary>Ours only: the backend that ran (Auto resolved).</summary>
    public string? ResolvedBackend { get; init; }

    /// <summary>Ours only: where the batch sizes lived, "device" or "host".</summary>
    public string? Counts { get; init; }

    /// <summary>
    /// Ours in PyTorch's loop: ‖ours − torch._grouped_mm‖ / ‖torch._grouped_mm‖ after timing (torch_baseline.py check_ours).
    /// </summary>
    public double? CheckedRelError { get; init; }

    /// <summary>
    /// Ours in PyTorch's loop, decode groups timed eagerly because another series could not be captured (torch's fp16
    /// grouped mm copies to the host): ours alone, replayed from a CUDA graph, median per call. The sweep's HBM floor is
    /// about ours' device time, which an eager call's enqueue time hides; the ratio to torch stays on the eager
    /// timings of the same loop (bench/torch_baseline.py, time_round_robin).
    /// </summary>
    public double? GraphAloneMedianMs { get; init; }

    /// <summary>Whether the series has a timing.</summary>
    public bool HasTiming => Status == SeriesStatus.Ok && Tflops is > 0;
}

/// <summary>The kinds of series the report knows.</summary>
internal static class SeriesKinds
{
    /// <summary>GroupedGemm.Net's grouped GEMM.</summary>
    public const string Ours = "ours";

    /// <summary>
    /// GroupedGemm.Net's grouped GEMM (Auto, device counts) called through ctypes inside the PyTorch process, timed in
    /// the same round-robin loop as <c>torch._grouped_mm</c> (<c>torch_baseline.py --ours-lib</c>).
    /// </summary>
    public const string OursInProcess = "ours-inprocess";

    /// <summary>PyTorch's <c>torch._grouped_mm</c>.</summary>
    public const string TorchGroupedMm = "torch-grouped-mm";

    /// <summary>A dense GEMM of equal FLOPs in the same layout (the yardstick of each process).</summary>
    public const string Dense = "dense";

    /// <summary><c>torch.bmm</c> over zero-padded operands.</summary>
    public const string PaddedBmm = "padded-bmm";
}

/// <summary>The status words of a series.</summary>
internal static class SeriesStatus
{
    /// <summary>Timed.</summary>
    public const string Ok = "ok";

    /// <summary>The implementation refused the call.</summary>
    public const string Unsupported = "unsupported";

    /// <summary>Our backend is not in this build of the native library.</summary>
    public const string NotCompiled = "not compiled";

    /// <summary>Device memory ran out (or would have: the estimate exceeded what was free).</summary>
    public const string OutOfMemory = "out of memory";

    /// <summary>The call failed at run time.</summary>
    public const string Error = "error";
}

/// <summary>One output checked against the float64 CPU reference.</summary>
internal sealed record VerifyResult(
    string Problem, string Dtype, string Form, string Backend, double RelativeError, double Bound, bool Passed);
