namespace GroupedGemm;

/// <summary>The scope of <see cref="CudaStream.AsCurrent"/>: disposing it restores the ambient stream that was current before.</summary>
public sealed class CurrentStreamScope : IDisposable
{
    private readonly object _frame;
    private bool _disposed;

    internal CurrentStreamScope(object frame) => _frame = frame;

    /// <summary>
    /// Ends the scope (once; later calls do nothing): its stream is no longer ambient, and the innermost scope still
    /// open becomes current again, even when scopes are disposed out of order.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        AmbientStream.End(_frame);
    }
}
