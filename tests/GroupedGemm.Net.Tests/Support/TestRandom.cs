using NUnit.Framework;

namespace GroupedGemm.Tests.Support;

/// <summary>Fresh random data every run, with the seed printed so that a failure can be replayed.</summary>
internal static class TestRandom
{
    /// <summary>A generator with a fresh seed, written to the test output.</summary>
    /// <returns>The generator.</returns>
    internal static Random Create()
    {
        int seed = Random.Shared.Next();
        TestContext.Out.WriteLine($"seed {seed}");
        return new Random(seed);
    }

    /// <summary>Uniform values in [-1, 1).</summary>
    /// <param name="random">The generator.</param>
    /// <param name="count">How many.</param>
    /// <returns>The values.</returns>
    internal static double[] Uniform(Random random, long count)
    {
        var values = new double[count];
        for (long i = 0; i < count; i++) values[i] = (random.NextDouble() * 2) - 1;
        return values;
    }
}
