using GroupedGemm.Bench.Model;

namespace GroupedGemm.Bench.Running;

/// <summary>
/// Times several cases in one loop: every iteration calls each live case once, between two CUDA events on the
/// bench stream, in a fresh random order, so clock and thermal drift hit all cases alike. A fixed cyclic order
/// would always run the same case right after a slow, memory-bound one (padded bmm, the cuBLAS loop on small
/// experts), whose low power lets the clocks recover: that case gained up to 10% (docs/perf-notes.md).
/// </summary>
internal sealed class RoundRobinTimer : IDisposable
{
    // Fixed, so that a rerun times the cases in the same orders.
    private const int OrderSeed = 20261126;

    private readonly CudaStream _stream;
    private readonly List<CudaEvent> _events = [];

    public RoundRobinTimer(CudaStream stream) => _stream = stream;

    /// <summary>Runs one call of each case and waits, so that a case that cannot run is out before timing starts.</summary>
    public void Probe(IEnumerable<TimedCase> cases)
    {
        foreach (TimedCase c in cases.Where(c => c.IsLive))
        {
            try
            {
                c.Call!(0);
                _stream.Synchronize();
            }
            catch (GroupedGemmException e)
            {
                c.Fail(StatusOf(e), e.Message);
            }
        }
    }

    /// <summary><paramref name="warmup"/> untimed rounds, then <paramref name="iters"/> timed rounds.</summary>
    public void Run(IReadOnlyList<TimedCase> cases, int warmup, int iters)
    {
        var live = cases.Where(c => c.IsLive).ToList();
        if (live.Count == 0) return;
        EnsureEvents(2 * iters * live.Count);
        try
        {
            for (int w = 0; w < warmup; w++)
                foreach (TimedCase c in live) c.Call!(w);
            _stream.Synchronize();
            var random = new Random(OrderSeed);
            int[] order = Enumerable.Range(0, live.Count).ToArray();
            for (int i = 0; i < iters; i++)
            {
                random.Shuffle(order);
                foreach (int k in order)
                {
                    int slot = 2 * ((i * live.Count) + k);
                    _events[slot].Record(_stream);
                    live[k].Call!(i);
                    _events[slot + 1].Record(_stream);
                }
            }

            _stream.Synchronize();
            for (int k = 0; k < live.Count; k++)
            {
                for (int i = 0; i < iters; i++)
                {
                    int slot = 2 * ((i * live.Count) + k);
                    live[k].TimesMs.Add(CudaEvent.ElapsedMilliseconds(_events[slot], _events[slot + 1]));
                }
            }
        }
        catch (GroupedGemmException e)
        {
            // An asynchronous failure cannot be pinned on one case: all of this loop's figures are void.
            foreach (TimedCase c in live) c.Fail(StatusOf(e), $"failed during timing: {e.Message}");
        }
    }

    /// <summary>The series status for a library failure.</summary>
    public static string StatusOf(GroupedGemmException e) => e.Status switch
    {
        GroupedGemmStatus.OutOfMemory => SeriesStatus.OutOfMemory,
        GroupedGemmStatus.NotSupported => SeriesStatus.Unsupported,
        GroupedGemmStatus.BackendNotCompiled => SeriesStatus.NotCompiled,
        _ => SeriesStatus.Error,
    };

    private void EnsureEvents(int count)
    {
        while (_events.Count < count) _events.Add(CudaEvent.Create());
    }

    public void Dispose()
    {
        foreach (CudaEvent e in _events) e.Dispose();
        _events.Clear();
    }
}
