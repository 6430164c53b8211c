namespace GroupedGemm.Tests.Support;

/// <summary>Batch sizes as MoE routers produce them.</summary>
internal static class Routing
{
    /// <summary>Counts of <paramref name="experts"/> experts, zero but for the (expert, rows) pairs given (rows of an expert
    /// named twice add up): a routing written out for the experts each case must put on one side of a bound.</summary>
    /// <param name="experts">E.</param>
    /// <param name="rows">The experts that hold rows, and how many.</param>
    /// <returns>E counts.</returns>
    internal static long[] Spread(int experts, params (int Expert, long Rows)[] rows)
    {
        var counts = new long[experts];
        foreach ((int expert, long r) in rows) counts[expert] += r;
        return counts;
    }

    /// <summary>Each row's expert drawn uniformly.</summary>
    /// <param name="random">The generator.</param>
    /// <param name="rows">M.</param>
    /// <param name="experts">E.</param>
    /// <returns>E counts summing to M.</returns>
    internal static long[] Uniform(Random random, long rows, int experts)
    {
        var counts = new long[experts];
        for (long r = 0; r < rows; r++) counts[random.Next(experts)]++;
        return counts;
    }

    /// <summary>Expert e drawn with probability proportional to 1/(e+1) (the seed document's skew).</summary>
    /// <param name="random">The generator.</param>
    /// <param name="rows">M.</param>
    /// <param name="experts">E.</param>
    /// <returns>E counts summing to M.</returns>
    internal static long[] Zipf(Random random, long rows, int experts)
    {
        var cumulative = new double[experts];
        double total = 0;
        for (int e = 0; e < experts; e++) cumulative[e] = total += 1.0 / (e + 1);
        var counts = new long[experts];
        for (long r = 0; r < rows; r++)
        {
            int e = Array.BinarySearch(cumulative, random.NextDouble() * total);
            counts[e < 0 ? Math.Min(~e, experts - 1) : e]++;
        }

        return counts;
    }

    /// <summary>All rows in expert <paramref name="expert"/>.</summary>
    /// <param name="rows">M.</param>
    /// <param name="experts">E.</param>
    /// <param name="expert">The expert that gets every row.</param>
    /// <returns>E counts summing to M.</returns>
    internal static long[] AllIn(long rows, int experts, int expert)
    {
        var counts = new long[experts];
        counts[expert] = rows;
        return counts;
    }

    /// <summary>Uniform routing over the odd experts only, so that the first, middle and even experts are empty.</summary>
    /// <param name="random">The generator.</param>
    /// <param name="rows">M.</param>
    /// <param name="experts">E (at least 2).</param>
    /// <returns>E counts summing to M.</returns>
    internal static long[] WithEmptyExperts(Random random, long rows, int experts)
    {
        var counts = new long[experts];
        if (experts < 2)
        {
            counts[0] = rows;  // one expert cannot leave another empty
            return counts;
        }
        for (long r = 0; r < rows; r++) counts[(2 * random.Next(experts / 2)) + 1]++;
        return counts;
    }
}
