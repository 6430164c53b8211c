namespace GroupedGemm.Tests.Support;

/// <summary>
/// How long the randomized (CsCheck) stress tests run: a short, fixed-seed run by default, so the suite stays fast
/// and repeatable; <c>GG_STRESS_ITERATIONS</c> asks for more sequences and <c>GG_STRESS_SEED</c> replays the seed a
/// failure printed (CsCheck prints it with the shrunk failing sequence).
/// </summary>
internal static class StressSettings
{
    /// <summary>The fixed seed of the default run (any seed CsCheck printed works too).</summary>
    internal const string DefaultSeed = "0000000000001";

    /// <summary>How many random operation sequences to run: <c>GG_STRESS_ITERATIONS</c>, else <paramref name="fallback"/>.</summary>
    /// <param name="fallback">The default count.</param>
    /// <returns>The count.</returns>
    internal static long Iterations(long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable("GG_STRESS_ITERATIONS"), out long n) && n > 0 ? n : fallback;

    /// <summary>The seed: <c>GG_STRESS_SEED</c>, else the fixed default; a longer run without a seed is random.</summary>
    /// <returns>The seed, or null for a random one.</returns>
    internal static string? Seed()
    {
        string? given = Environment.GetEnvironmentVariable("GG_STRESS_SEED");
        if (!string.IsNullOrWhiteSpace(given)) return given;
        return Environment.GetEnvironmentVariable("GG_STRESS_ITERATIONS") is null ? DefaultSeed : null;
    }
}
