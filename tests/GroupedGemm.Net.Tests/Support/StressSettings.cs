using CsCheck;

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

    /// <summary>
    /// Runs <paramref name="property"/> on <paramref name="fallback"/> (or <c>GG_STRESS_ITERATIONS</c>) values of
    /// <paramref name="gen"/>. CsCheck's seed fixes only the first value of a run and draws the rest at random, so the
    /// default run draws each value from a seed of its own, fixed (one single-value run per seed): it repeats exactly,
    /// and a failure names the seed that replays it (<c>GG_STRESS_SEED</c>, with <c>GG_STRESS_ITERATIONS</c> to shrink).
    /// </summary>
    /// <typeparam name="T">The generated value.</typeparam>
    /// <param name="gen">The generator.</param>
    /// <param name="property">Throws for a value that breaks the property.</param>
    /// <param name="fallback">The default count.</param>
    /// <param name="print">How a failing value is printed, or null for CsCheck's default.</param>
    internal static void Sample<T>(Gen<T> gen, Action<T> property, long fallback, Func<T, string>? print = null)
    {
        if (Environment.GetEnvironmentVariable("GG_STRESS_ITERATIONS") is null &&
            string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("GG_STRESS_SEED")))
        {
            PCG first = PCG.Parse(DefaultSeed);
            for (ulong i = 0; i < (ulong)fallback; i++)
                gen.Sample(property, iter: 1, threads: 1, seed: new PCG(first.Stream, first.Seed + i).ToString(), print: print);
            return;
        }

        gen.Sample(property, iter: Iterations(fallback), threads: 1, seed: Seed(), print: print);
    }
}
