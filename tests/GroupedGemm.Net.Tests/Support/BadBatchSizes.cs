namespace GroupedGemm.Tests.Support;

/// <summary>
/// Device batch sizes that do not describe <see cref="Rows"/> rows over <see cref="Experts"/> experts: the misuse cases
/// of every grouped GEMM's counts safety tests (plain and scaled), kept in one list so that both meet the same ones.
/// </summary>
internal static class BadBatchSizes
{
    /// <summary>The experts of every case.</summary>
    public const int Experts = 4;

    /// <summary>The rows (M) the operands have.</summary>
    public const int Rows = 256;

    /// <summary>The cases, <see cref="Experts"/> counts each.</summary>
    /// <returns>Counts that sum to more than M, hold a negative count, sum to less than M, or overflow int64 when summed.</returns>
    public static IEnumerable<long[]> Cases()
    {
        yield return [Rows, Rows, Rows, Rows];                      // sums to 4·M
        yield return [Rows, -5, 5, 0];                              // a negative count
        yield return [10, 10, 10, 10];                              // sums to less than M
        yield return [long.MaxValue / 2, long.MaxValue / 2, 0, 1];  // overflowing sums
    }
}
