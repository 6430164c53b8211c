namespace GroupedGemm;

/// <summary>
/// tgale96's <c>grouped_gemm.ops.gmm</c> for .NET: one call, no context to manage. Each thread gets its own
/// <see cref="GroupedGemmContext"/> per device (contexts must not be shared between threads), created on first
/// use and kept for the thread's lifetime. Calls run on the legacy default stream.
/// </summary>
public static class Ops
{
    [ThreadStatic]
    private static Dictionary<int, GroupedGemmContext>? t_contexts;

    /// <summary>y = gmm(x, w, tokensPerExpert, transB): x [M, K] · w [E, K, N] (or [E, N, K]) → [M, N].</summary>
    /// <param name="x">The routed tokens, grouped by expert: [M, K].</param>
    /// <param name="w">The expert weights: [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="tokensPerExpert">Rows per expert, E values, summing to M.</param>
    /// <param name="transB">Whether <paramref name="w"/> is stored transposed.</param>
    /// <returns>A new [M, N] tensor on x's device.</returns>
    public static DeviceTensor Gmm(DeviceTensor x, DeviceTensor w, long[] tokensPerExpert, bool transB = false)
    {
        ArgumentNullException.ThrowIfNull(tokensPerExpert);
        return Gmm(x, w, tokensPerExpert.AsSpan(), transB);
    }

    /// <summary>y = gmm(x, w, tokensPerExpert, transB) with host counts.</summary>
    /// <param name="x">The routed tokens, grouped by expert: [M, K].</param>
    /// <param name="w">The expert weights: [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="tokensPerExpert">Rows per expert, E values, summing to M.</param>
    /// <param name="transB">Whether <paramref name="w"/> is stored transposed.</param>
    /// <returns>A new [M, N] tensor on x's device.</returns>
    public static DeviceTensor Gmm(DeviceTensor x, DeviceTensor w, ReadOnlySpan<long> tokensPerExpert, bool transB = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        GmmValidation.ValidateHostCounts(x, w, null, tokensPerExpert, false, transB, x.Device, GmmNames.Ops);
        return ContextFor(x.Device).Gmm(x, w, tokensPerExpert, transB, null, GmmNames.Ops);
    }

    /// <summary>y = gmm(x, w, tokensPerExpert, transB) with device counts (an Int64 tensor of E elements; no host synchronisation).</summary>
    /// <param name="x">The routed tokens, grouped by expert: [M, K].</param>
    /// <param name="w">The expert weights: [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="tokensPerExpert">Rows per expert on the device.</param>
    /// <param name="transB">Whether <paramref name="w"/> is stored transposed.</param>
    /// <returns>A new [M, N] tensor on x's device.</returns>
    public static DeviceTensor Gmm(DeviceTensor x, DeviceTensor w, DeviceTensor tokensPerExpert, bool transB = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        GmmValidation.ValidateDeviceCounts(x, w, null, tokensPerExpert, false, transB, x.Device, GmmNames.Ops);
        return ContextFor(x.Device).Gmm(x, w, tokensPerExpert, transB, null, GmmNames.Ops);
    }

    /// <summary>The calling thread's context for <paramref name="device"/>, created on first use.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The context; do not dispose it, and do not hand it to another thread.</returns>
    public static GroupedGemmContext ContextFor(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        t_contexts ??= [];
        if (!t_contexts.TryGetValue(device, out GroupedGemmContext? context))
        {
            context = new GroupedGemmContext(device);
            t_contexts[device] = context;
        }

        return context;
    }
}
