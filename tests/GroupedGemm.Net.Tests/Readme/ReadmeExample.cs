namespace GroupedGemm.Tests.Readme;

/// <summary>The README's usage example, verbatim between the markers (ReadmeExampleTests keeps them equal).</summary>
internal static class ReadmeExample
{
    /// <summary>Runs the example and returns its inputs and result for checking.</summary>
    internal static (BFloat16[] X, BFloat16[] W, long[] Counts, BFloat16[] Result) Run()
    {
        // README-BEGIN
        // 3 experts; x's rows are sorted by expert: 3 rows for expert 0, none for expert 1, 5 for expert 2.
        long[] tokensPerExpert = [3, 0, 5];
        const int m = 8, k = 64, n = 32, experts = 3;

        var rng = new Random(1);
        var xHost = new BFloat16[m * k];
        var wHost = new BFloat16[experts * k * n];
        for (int i = 0; i < xHost.Length; i++) xHost[i] = (BFloat16)(float)rng.NextDouble();
        for (int i = 0; i < wHost.Length; i++) wHost[i] = (BFloat16)(float)(rng.NextDouble() - 0.5);

        using var x = DeviceTensor.FromArray(xHost, m, k);             // [M, K]
        using var w = DeviceTensor.FromArray(wHost, experts, k, n);    // [E, K, N]
        using var y = Ops.Gmm(x, w, tokensPerExpert, transB: false);   // [M, N], bf16, fp32 accumulation

        BFloat16[] result = y.ToArray<BFloat16>();
        // README-END
        return (xHost, wHost, tokensPerExpert, result);
    }
}
