namespace GroupedGemm.Bench.Running;

/// <summary>What <c>GroupedGemm.Bench run</c> was asked to do.</summary>
internal sealed record BenchOptions(
    FileInfo Problems,
    FileInfo Output,
    IReadOnlyList<string> Configs,
    IReadOnlyList<string> Routings,
    IReadOnlyList<DType> Dtypes,
    IReadOnlyList<string> Forms,
    IReadOnlyList<GemmBackend> Backends,
    IReadOnlyList<bool> AutoDeviceCounts,
    int Iters,
    int Warmup,
    bool Verify,
    int Device,
    int Seed)
{
    /// <summary>Whether the dense GEMM of equal FLOPs is timed in the loop too (off: ours alone, as a user's program runs it).</summary>
    public bool Dense { get; init; } = true;
}

/// <summary>The names the command line and the JSON files use for element types and backends.</summary>
internal static class Names
{
    /// <summary>"bf16" or "fp16".</summary>
    public static string Of(DType dtype) => dtype switch
    {
        DType.BFloat16 => "bf16",
        DType.Float16 => "fp16",
        DType.Float32 => "fp32",
        _ => dtype.ToString(),
    };

    /// <summary>Parses "bf16", "fp16" or "fp32".</summary>
    public static DType ParseDType(string text) => text switch
    {
        "bf16" => DType.BFloat16,
        "fp16" => DType.Float16,
        "fp32" => DType.Float32,
        _ => throw new ArgumentException($"--dtype: unknown '{text}' (known: bf16, fp16, fp32)."),
    };

    /// <summary>The library's name for a backend (<c>gg_backend_name</c>: the native backend table is the one list of
    /// names; the bench loads the library anyway).</summary>
    public static string Of(GemmBackend backend) => CudaDevice.BackendName(backend);

    /// <summary>Parses a backend name, or "all" for every backend of <see cref="GemmBackend"/>.</summary>
    public static IEnumerable<GemmBackend> ParseBackends(string text) =>
        text == "all" ? Enum.GetValues<GemmBackend>() : [ParseBackend(text)];

    /// <summary>Parses a backend name.</summary>
    public static GemmBackend ParseBackend(string text) =>
        Enum.GetValues<GemmBackend>().Where(b => Of(b) == text).Select(b => (GemmBackend?)b).FirstOrDefault()
            ?? throw new ArgumentException(
                $"--backends: unknown '{text}' (known: all, {string.Join(", ", Enum.GetValues<GemmBackend>().Select(Of))}).");
}
