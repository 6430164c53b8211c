namespace GroupedGemm.Bench.Model;

/// <summary>
/// The problem file written by <c>bench/torch_baseline.py</c> (schema <see cref="SchemaName"/>): the shapes and the
/// per-expert row counts both halves of the benchmark time, so that ours and the PyTorch baselines see the same counts.
/// </summary>
internal sealed record ProblemFile(string Schema, long Seed, RotationRule Rotation, IReadOnlyList<Problem> Problems)
{
    /// <summary>The schema this tool reads.</summary>
    public const string SchemaName = "groupedgemm-bench-problems/1";

    /// <summary>Throws <see cref="InvalidDataException"/> naming the file and the entry when something is off.</summary>
    public void Validate(string path)
    {
        if (Schema != SchemaName)
            throw new InvalidDataException($"{path}: schema '{Schema}', expected '{SchemaName}'.");
        if (Rotation is null || Problems is null || Problems.Count == 0)
            throw new InvalidDataException($"{path}: needs 'rotation' and a non-empty 'problems' list.");
        foreach (Problem p in Problems) p.Validate(path);
    }
}

/// <summary>How many input buffer sets to rotate between timed calls (the same rule as <c>problems.buffer_sets</c>).</summary>
internal sealed record RotationRule(int BufferSets, long SingleSetAboveBytes)
{
    /// <summary>The number of sets for a call whose inputs take <paramref name="setBytes"/>.</summary>
    public int SetsFor(long setBytes) => setBytes > SingleSetAboveBytes ? 1 : Math.Max(1, BufferSets);
}

/// <summary>One configuration under one routing, with its drawn counts.</summary>
internal sealed record Problem(
    string Id, string Config, string Routing, long Tokens, int TopK, int Experts,
    long M, long K, long N, long MaxCount, int EmptyExperts, long[] Counts)
{
    /// <summary>The sweep's model name (bench/sweep/models.json); null in the standard benchmark's problem file.</summary>
    public string? Model { get; init; }

    /// <summary>The sweep's projection, "up" or "down"; null in the standard benchmark's problem file.</summary>
    public string? Projection { get; init; }

    /// <summary>Useful floating-point operations of one grouped GEMM of this problem, any form: 2·M·K·N.</summary>
    public double Flops => 2.0 * M * K * N;

    /// <summary>M·N·K, the size the dense bar of the issue is keyed on.</summary>
    public double Volume => (double)M * K * N;

    /// <summary>Throws <see cref="InvalidDataException"/> when the counts do not fit the shape.</summary>
    public void Validate(string path)
    {
        string where = $"{path}: problem '{Id}'";
        if (M <= 0 || K <= 0 || N <= 0 || Experts <= 0)
            throw new InvalidDataException($"{where}: m, k, n and experts must be positive (m={M}, k={K}, n={N}, experts={Experts}).");
        if (Counts is null || Counts.Length != Experts)
            throw new InvalidDataException($"{where}: {Counts?.Length ?? 0} counts for {Experts} experts.");
        if (Counts.Any(c => c < 0))
            throw new InvalidDataException($"{where}: a count is negative.");
        long sum = Counts.Sum();
        if (sum != M)
            throw new InvalidDataException($"{where}: counts sum to {sum}, m = {M}.");
    }
}
