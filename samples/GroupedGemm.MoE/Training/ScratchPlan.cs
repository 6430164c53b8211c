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
/// a placed buffer it is live with). Reuse is safe on one stream: a buffer is released after the last kernel that reads
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
        var offsets = new long[n];
        var placed = new List<int>(n);
        long arena = 0;
        foreach (int i in Enumerable.Range(0, n).OrderByDescending(i => sizes[i]).ThenBy(i => i))
        {
            // Byte ranges of the placed buffers live at the same time as i, by offset; i goes in the first gap.
            var busy = placed.Where(j => starts[j] < ends[i] && starts[i] < ends[j])
                .Select(j => (Start: offsets[j], End: offsets[j] + sizes[j])).OrderBy(r => r.Start);
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

        return new ScratchPlan(events.ToArray(), offsets, arena);
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
