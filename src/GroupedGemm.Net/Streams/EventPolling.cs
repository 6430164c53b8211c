namespace GroupedGemm;

/// <summary>
/// Waits for GPU work without holding a thread: polls an event, yielding a few times and then sleeping 1 ms between
/// polls (the timer frees the thread in between). The C ABI has no host callback to complete a task from the GPU side.
/// </summary>
internal static class EventPolling
{
    private const int YieldingPolls = 8;

    /// <summary>Completes when the work before <paramref name="cudaEvent"/>'s record is done; then reports errors.</summary>
    internal static async Task WaitAsync(CudaEvent cudaEvent, CancellationToken cancellationToken)
    {
        int polls = 0;
        while (!cudaEvent.IsCompleted())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (polls++ < YieldingPolls) await Task.Yield();
            else await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }

        // Returns at once now; reports an asynchronous kernel error the way the blocking wait does.
        cudaEvent.Synchronize();
    }

    /// <summary>Records an event on <paramref name="stream"/> and waits for it.</summary>
    internal static async Task SynchronizeAsync(CudaStream stream, int device, CancellationToken cancellationToken)
    {
        using CudaEvent done = CudaEvent.Create(device);
        done.Record(stream);
        await WaitAsync(done, cancellationToken).ConfigureAwait(false);
    }
}
