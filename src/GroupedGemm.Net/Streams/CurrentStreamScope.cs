namespace GroupedGemm;

/// <summary>The scope of <see cref="CudaStream.AsCurrent"/>: disposing it restores the ambient stream that was current before.</summary>
public sealed class CurrentStreamScope : IDisposable
{
    private readonly object? _previous;
    private bool _disposed;

    internal CurrentStreamScope(object? previous) => _previous = previous;

    /// <summary>Restores the ambient stream of before the scope (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        AmbientStream.Restore(_previous);
    }
}
