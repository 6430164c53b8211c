using System.Collections.Concurrent;

namespace GroupedGemm;

/// <summary>
/// The contexts behind <see cref="Ops.Gmm(DeviceTensor, DeviceTensor, BatchSizes, bool, GmmOptions?)"/>: handed out per call and
/// taken back after it, so that the number of contexts follows the number of calls running at once, not the
/// number of threads that ever called (a context holds a cuBLAS handle, 32 MiB of cuBLAS workspace and about
/// 5 MiB of its own). At most <see cref="MaxIdlePerDevice"/> idle contexts are kept per device; a context
/// returned beyond that is disposed.
/// </summary>
internal sealed class ContextPool
{
    private readonly ConcurrentDictionary<int, ConcurrentBag<GroupedGemmContext>> _idle = new();
    private int _live;

    /// <summary>Creates a pool that keeps up to <paramref name="maxIdlePerDevice"/> idle contexts per device.</summary>
    /// <param name="maxIdlePerDevice">The bound on idle contexts per device, at least 1.</param>
    internal ContextPool(int maxIdlePerDevice)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxIdlePerDevice);
        MaxIdlePerDevice = maxIdlePerDevice;
    }

    /// <summary>The bound on idle contexts kept per device.</summary>
    internal int MaxIdlePerDevice { get; }

    /// <summary>Contexts made by this pool and not yet disposed (rented and idle).</summary>
    internal int LiveCount => Volatile.Read(ref _live);

    /// <summary>An idle context for <paramref name="device"/>, or a new one.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The context, given back by the <see cref="Leased"/> that holds it.</returns>
    private GroupedGemmContext Rent(int device)
    {
        if (_idle.TryGetValue(device, out ConcurrentBag<GroupedGemmContext>? bag) && bag.TryTake(out GroupedGemmContext? context))
            return context;

        Interlocked.Increment(ref _live);
        try
        {
            return new GroupedGemmContext(device);
        }
        catch
        {
            Interlocked.Decrement(ref _live);
            throw;
        }
    }

    /// <summary>Rents a context for <paramref name="device"/> for one call: <c>using var lease = pool.Lease(device);</c>.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <returns>The lease; disposing it gives the context back.</returns>
    internal Leased Lease(int device) => new(this, Rent(device));

    /// <summary>A rented context, given back to its pool on <see cref="Dispose"/>.</summary>
    internal readonly struct Leased : IDisposable
    {
        private readonly ContextPool _pool;

        internal Leased(ContextPool pool, GroupedGemmContext context)
        {
            _pool = pool;
            Context = context;
        }

        /// <summary>The rented context.</summary>
        internal GroupedGemmContext Context { get; }

        /// <summary>Gives the context back to the pool.</summary>
        public void Dispose() => _pool.Return(Context);
    }

    /// <summary>Takes a context back after the call that rented it returned; disposes it if enough are idle.</summary>
    /// <param name="context">The context from <see cref="Rent"/>.</param>
    private void Return(GroupedGemmContext context)
    {
        ConcurrentBag<GroupedGemmContext> bag = _idle.GetOrAdd(context.Device, _ => []);
        if (bag.Count < MaxIdlePerDevice)
        {
            bag.Add(context);
            return;
        }

        Dispose(context);
    }

    /// <summary>Disposes every idle context (rented ones are disposed when they come back only if the pool is full).</summary>
    /// <returns>How many were disposed.</returns>
    internal int ReleaseIdle()
    {
        int released = 0;
        foreach (ConcurrentBag<GroupedGemmContext> bag in _idle.Values)
        {
            while (bag.TryTake(out GroupedGemmContext? context))
            {
                Dispose(context);
                released++;
            }
        }

        return released;
    }

    private void Dispose(GroupedGemmContext context)
    {
        context.Dispose();
        Interlocked.Decrement(ref _live);
    }
}
