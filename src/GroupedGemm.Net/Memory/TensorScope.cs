namespace GroupedGemm;

/// <summary>
/// Disposes the intermediate tensors of a block of code: every tensor that owns its memory and is allocated in this
/// thread and async flow while the scope is the innermost one (<see cref="DeviceTensor.Allocate(DType, long[])"/>,
/// uploads, the outputs of <c>Gmm</c> and the other calls) is disposed when the scope is, unless it was moved out first
/// (<see cref="DeviceTensor.MoveToOuterScope"/>, <see cref="DeviceTensor.DetachFromScope"/>):
/// <code>
/// DeviceTensor y;
/// using (TensorScope.Begin())
/// {
///     DeviceTensor h = Ops.Gmm(x, w1, counts);          // disposed at the end of the scope
///     y = Ops.Gmm(h, w2, counts).DetachFromScope();     // kept: the caller disposes it
/// }
/// </code>
/// </summary>
/// <remarks>
/// With the caching allocator, the memory of the disposed tensors goes back to the cache for the next iteration, so a
/// loop body in a scope allocates nothing after its first pass. Wrapped memory and views are not tracked (disposing
/// them frees nothing). Scopes nest; dispose them in reverse order, on the flow that began them. Tensors disposed
/// before the scope ends leave it at once. Work queued on a stream is not waited for: as with <c>Dispose</c>, the
/// stream-ordered allocator makes reusing the memory safe on the stream it was allocated for.
/// </remarks>
public sealed class TensorScope : IDisposable
{
    private static readonly AsyncLocal<TensorScope?> s_current = new();

    private readonly object _lock = new();
    private readonly HashSet<DeviceTensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private TensorScope(TensorScope? outer) => Outer = outer;

    /// <summary>The innermost scope of the calling thread and async flow, or null.</summary>
    public static TensorScope? Current => s_current.Value;

    /// <summary>The scope that was innermost when this one began, or null.</summary>
    public TensorScope? Outer { get; }

    /// <summary>How many tensors the scope will dispose.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _tensors.Count;
        }
    }

    /// <summary>Begins a scope; it is the innermost one of this thread and async flow until disposed.</summary>
    /// <returns>The scope.</returns>
    public static TensorScope Begin()
    {
        var scope = new TensorScope(s_current.Value);
        s_current.Value = scope;
        return scope;
    }

    /// <summary>Disposes the tensors still in the scope and makes the outer scope the innermost one again.</summary>
    public void Dispose()
    {
        DeviceTensor[] tensors;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            tensors = [.. _tensors];
            _tensors.Clear();
        }

        if (ReferenceEquals(s_current.Value, this)) s_current.Value = InnermostOpen(Outer);
        foreach (DeviceTensor tensor in tensors) tensor.Dispose();
    }

    /// <summary>Adds a newly allocated tensor to the innermost scope, if there is one.</summary>
    /// <param name="tensor">A tensor that owns its memory.</param>
    internal static void Register(DeviceTensor tensor)
    {
        // A scope disposed out of order (or on another flow) may still be linked in: the tensor goes to the innermost open one.
        for (TensorScope? scope = s_current.Value; scope is not null; scope = scope.Outer)
        {
            if (scope.Add(tensor)) return;
        }
    }

    /// <summary><paramref name="scope"/> or the first scope outside it that is not disposed; null when none is.</summary>
    private static TensorScope? InnermostOpen(TensorScope? scope)
    {
        while (scope is not null && Volatile.Read(ref scope._disposed)) scope = scope.Outer;
        return scope;
    }

    /// <summary>Adds <paramref name="tensor"/>; false when the scope is already disposed (the tensor then stays unscoped).</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns>Whether the scope took it.</returns>
    internal bool Add(DeviceTensor tensor)
    {
        lock (_lock)
        {
            if (_disposed) return false;
            _tensors.Add(tensor);
            tensor.Scope = this;
            return true;
        }
    }

    /// <summary>Stops tracking <paramref name="tensor"/> (disposed, detached or moved out).</summary>
    /// <param name="tensor">The tensor.</param>
    internal void Remove(DeviceTensor tensor)
    {
        lock (_lock)
        {
            _tensors.Remove(tensor);
            if (ReferenceEquals(tensor.Scope, this)) tensor.Scope = null;
        }
    }
}
