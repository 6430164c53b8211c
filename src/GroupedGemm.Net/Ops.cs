namespace GroupedGemm;

/// <summary>
/// tgale96's <c>grouped_gemm.ops.gmm</c> for .NET: one call, no context to manage. Calls run on the ambient stream of
/// the tensors' device (<see cref="CudaStream.Current"/>; set it with <c>using (stream.AsCurrent())</c>), and their
/// outputs come from <see cref="DeviceAllocator.Default"/>.
/// </summary>
/// <remarks>
/// <para>
/// Contexts: each <c>Gmm</c> call borrows a <see cref="GroupedGemmContext"/> for the call's device from a shared
/// pool and gives it back when it returns, so thread-pool code holds as many contexts as it runs calls at once
/// (at most <see cref="MaxIdleContextsPerDevice"/> idle ones are kept per device). <see cref="ReleaseContexts"/>
/// frees the idle ones, for example before handing the GPU to another library.
/// </para>
/// <para>
/// <see cref="ContextFor"/> is different: it gives the calling thread a context of its own per device, kept
/// until the thread calls <see cref="ReleaseThreadContexts"/>. Threads that come and go (thread-pool work) and use
/// it must call <see cref="ReleaseThreadContexts"/> before they finish, or their contexts live as long as the process.
/// </para>
/// </remarks>
public static class Ops
{
    private static readonly ContextPool s_pool = new(Math.Max(2, Environment.ProcessorCount));

    [ThreadStatic]
    private static Dictionary<int, GroupedGemmContext>? t_contexts;

    private static int s_threadContexts;

    /// <summary>The most idle contexts the pool behind <c>Gmm</c> keeps per device (the processor count, at least 2).</summary>
    public static int MaxIdleContextsPerDevice => s_pool.MaxIdlePerDevice;

    /// <summary>Contexts made by <c>Gmm</c>'s pool and not yet disposed (in use and idle); for tests and diagnostics.</summary>
    internal static int PooledContextCount => s_pool.LiveCount;

    /// <summary>Contexts made by <see cref="ContextFor"/> on any thread and not yet released; for tests and diagnostics.</summary>
    internal static int ThreadContextCount => Volatile.Read(ref s_threadContexts);

    /// <summary>
    /// c = gmm(a, b, batchSizes, transB): a [M, K] · b [E, K, N] (or [E, N, K]) → c [M, N], as tgale96's
    /// <c>gmm(a, b, batch_sizes, trans_b=...)</c>. Device batch sizes (an Int64 tensor of E elements) never leave the
    /// device and the call does not synchronise.
    /// </summary>
    /// <param name="a">The routed tokens, grouped by expert: [M, K].</param>
    /// <param name="b">The expert weights: [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="batchSizes">Rows per expert, E values, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="transB">Whether <paramref name="b"/> is stored transposed.</param>
    /// <param name="options">Backend, stream (null: the ambient stream), count checking; null for defaults.</param>
    /// <returns>A new [M, N] tensor on a's device, from <see cref="DeviceAllocator.Default"/>.</returns>
    public static DeviceTensor Gmm(DeviceTensor a, DeviceTensor b, BatchSizes batchSizes, bool transB = false, GmmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        // Checked before a context is borrowed, so that a bad call creates none.
        GmmValidation.Validate(a, b, null, batchSizes, false, transB, a.Device, GmmNames.Context, options);
        using ContextPool.Leased lease = s_pool.Lease(a.Device);
        return lease.Context.Gmm(a, b, batchSizes, transB, options);
    }

    /// <summary>
    /// The calling thread's own context for <paramref name="device"/>, created on first use and kept until the
    /// thread calls <see cref="ReleaseThreadContexts"/> (<c>Gmm</c> does not use it).
    /// </summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The context; do not dispose it (use <see cref="ReleaseThreadContexts"/>), and do not hand it to another thread.</returns>
    public static GroupedGemmContext ContextFor(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        t_contexts ??= [];
        if (!t_contexts.TryGetValue(device, out GroupedGemmContext? context))
        {
            context = new GroupedGemmContext(device);
            t_contexts[device] = context;
            Interlocked.Increment(ref s_threadContexts);
        }

        return context;
    }

    /// <summary>
    /// Disposes the contexts <see cref="ContextFor"/> made for the calling thread (synchronise the streams they used
    /// first). A later <see cref="ContextFor"/> on this thread makes a new one.
    /// </summary>
    /// <returns>How many contexts were released.</returns>
    public static int ReleaseThreadContexts()
    {
        if (t_contexts is null) return 0;
        int released = 0;
        foreach (GroupedGemmContext context in t_contexts.Values)
        {
            context.Dispose();
            Interlocked.Decrement(ref s_threadContexts);
            released++;
        }

        t_contexts = null;
        return released;
    }

    /// <summary>
    /// Disposes the idle contexts of the pool behind <c>Gmm</c> (contexts in use by calls on other threads go back
    /// to the pool afterwards). Later calls make new contexts as needed.
    /// </summary>
    /// <returns>How many contexts were released.</returns>
    public static int ReleaseContexts() => s_pool.ReleaseIdle();
}
