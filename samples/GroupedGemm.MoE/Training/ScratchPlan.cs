namespace GroupedGemm.MoE.Training;

/// <summary>
/// Where each buffer of a recorded step lives in one arena: buffers whose lifetimes overlap get disjoint byte ranges,
/// buffers that are never live together may share bytes. The step's sequence of requests and releases is the same
/// every step (the shapes do not depend on the routing), so one recorded step gives the plan for all later ones, and
/// the arena is close to the most bytes the step ever has live at once, as a caching allocator's peak would be, instead
/// of the sum of every buffer.
/// </summary>
/// <remarks>
/// Placement is the greedy of static memory planners (largest buffer first, at the lowest offset that does not overlap
/// a placed buffer it is live with), then a short seeded search over nearby placement orders (<see cref="SearchTrials"/>). Reuse is safe on one stream: a buffer is released after the last kernel that reads
/// it is queued, so a kernel that writes its bytes as another buffer is queued after that reader.
/// </remarks>
internal sealed class ScratchPlan
{
    /// <summary>Offsets are multiples of this many bytes (the alignment the library's kernels and Wrap accept).</summary>
    public const long Alignment = 256;

    private ScratchPlan(IReadOnlyList<ScratchEvent> events, long[] offsets, long bytes)
    {
        Events = events;
        Offsets = offsets;
        ArenaBytes = bytes;
    }

    /// <summary>The recorded events the plan was made for, in order.</summary>
    public IReadOnlyList<ScratchEvent> Events { get; }

    /// <summary>Byte offset of buffer i (the i-th request) in the arena.</summary>
    public long[] Offsets { get; }

    /// <summary>The arena's size in bytes.</summary>
    public long ArenaBytes { get; }

    /// <summary>The plan for one step's <paramref name="events"/> (requests numbered 0.. in order; releases name them).</summary>
    public static ScratchPlan For(IReadOnlyList<ScratchEvent> events)
    {
        var starts = new List<int>();
        var sizes = new List<long>();
        var ends = new List<int>();
        for (int time = 0; time < events.Count; time++)
        {
            ScratchEvent e = events[time];
            if (e.IsRequest)
            {
                starts.Add(time);
                sizes.Add(RoundUp(e.Bytes));
                ends.Add(int.MaxValue); // live to the end of the step unless released
            }
            else
            {
                ends[e.Buffer] = time;
            }
        }

        int n = starts.Count;
        long livePeak = LivePeak(starts, sizes, ends, events.Count);
        int[] order = Enumerable.Range(0, n).OrderByDescending(i => sizes[i]).ThenBy(i => i).ToArray();
        (long[] offsets, long arena) = Pack(order, starts, sizes, ends);
        // Largest-first leaves gaps that a later buffer cannot use (the seed layer's plain step: 441 MiB for a live
        // peak of 409). Swapping a few neighbours in the placement order and keeping what packs tighter closes them;
        // the seed is fixed, so the same step always gets the same layout.
        var random = new Random(20261205);
        for (int trial = 0; trial < SearchTrials && arena > livePeak && n > 1; trial++)
        {
            int[] candidate = (int[])order.Clone();
            for (int swaps = random.Next(1, 7); swaps > 0; swaps--)
            {
                int i = random.Next(n - 1), j = Math.Min(n - 1, i + random.Next(1, 5));
                (candidate[i], candidate[j]) = (candidate[j], candidate[i]);
            }

            (long[] packed, long size) = Pack(candidate, starts, sizes, ends);
            if (size < arena) (order, offsets, arena) = (candidate, packed, size);
        }

        return new ScratchPlan(events.ToArray(), offsets, arena);
    }

    /// <summary>How many placement orders the layout tries beyond largest-first (fewer when it reaches the live peak).</summary>
    public const int SearchTrials = 2000;

    /// <summary>The most bytes live at once: no layout can be smaller.</summary>
    private static long LivePeak(List<int> starts, List<long> sizes, List<int> ends, int times)
    {
        long peak = 0;
        for (int time = 0; time < times; time++)
        {
            long live = 0;
            for (int i = 0; i < sizes.Count; i++)
                if (starts[i] <= time && time < ends[i]) live += sizes[i];
            peak = Math.Max(peak, live);
        }

        return peak;
    }

    /// <summary>Places the buffers in <paramref name="order"/>, each at the lowest offset clear of the placed buffers it is live with.</summary>
    private static (long[] Offsets, long Arena) Pack(int[] order, List<int> starts, List<long> sizes, List<int> ends)
    {
        var offsets = new long[order.Length];
        var placed = new List<int>(order.Length);
        var busy = new List<(long Start, long End)>();
        long arena = 0;
        foreach (int i in order)
        {
            busy.Clear();
            foreach (int j in placed)
                if (starts[j] < ends[i] && starts[i] < ends[j]) busy.Add((offsets[j], offsets[j] + sizes[j]));
            busy.Sort();
            long offset = 0;
            foreach ((long start, long end) in busy)
            {
                if (offset + sizes[i] <= start) break;
                offset = Math.Max(offset, end);
            }

            offsets[i] = offset;
            arena = Math.Max(arena, offset + sizes[i]);
            placed.Add(i);
        }

        return (offsets, arena);
    }

    /// <summary>
    /// Whether a step whose events so far are <paramref name="events"/> can run on this plan: they are the plan's first
    /// events (a shorter step, such as a forward without its backward, uses each buffer for no longer than planned).
    /// </summary>
    public bool Covers(IReadOnlyList<ScratchEvent> events) =>
        events.Count <= Events.Count && events.Select((e, i) => e == Events[i]).All(same => same);

    private static long RoundUp(long bytes) => Math.Max(Alignment, (bytes + Alignment - 1) / Alignment * Alignment);
}

/// <summary>
/// One event of a step's scratch: a request for a buffer (<see cref="Bytes"/>, with its type and shape as
/// <see cref="Key"/>) or the release of request number <see cref="Buffer"/>.
/// </summary>
internal readonly record struct ScratchEvent(bool IsRequest, long Bytes, string Key, int Buffer)
{
    /// <summary>A request for a buffer of this type and shape.</summary>
    public static ScratchEvent Request(DType dtype, long[] shape) =>
        new(true, shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize(), $"{dtype}[{string.Join(',', shape)}]", -1);

    /// <summary>The release of request number <paramref name="buffer"/>.</summary>
    public static ScratchEvent Release(int buffer) => new(false, 0, "", buffer);
}
