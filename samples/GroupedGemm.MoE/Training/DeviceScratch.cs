namespace GroupedGemm.MoE.Training;

/// <summary>
/// The device tensors of a GPU training step, freed together. <see cref="New"/> hands out the step's buffers in call
/// order and <see cref="Release"/> says when one is no longer read. The first step gets a buffer of its own for every
/// request and records the sequence; from then on the buffers are views into one arena laid out by
/// <see cref="ScratchPlan"/> from that sequence, so buffers that are never live together share bytes and the step holds
/// about its live peak, not the sum of its buffers. A step that runs again with the same sequence allocates nothing
/// (<see cref="Allocations"/> counts the real allocations): call <see cref="Plan"/> at the end of the first step (the
/// arena is then allocated within it), else <see cref="Rewind"/> makes the plan. With <see cref="Poison"/> every buffer
/// handed out is filled with 0xFF bytes (NaN), so that an element a kernel failed to write shows in the result instead
/// of passing as a stale value, also one left from another buffer that shares its bytes; the benchmark turns it off.
/// </summary>
internal sealed class DeviceScratch : IDisposable
{
    private readonly List<DeviceTensor> _owned = [];
    private readonly List<DeviceTensor> _unplanned = []; // this step's buffers outside the arena (first step, or a new sequence)
    private readonly List<ScratchEvent> _events = [];
    private readonly Dictionary<DeviceTensor, int> _requests = new(ReferenceEqualityComparer.Instance);
    private ScratchPlan? _plan, _nextPlan;
    private DeviceTensor? _arena, _nextArena;
    private bool _onPlan;

    /// <summary>A scratch that poisons (<paramref name="poison"/>) or not the buffers it hands out.</summary>
    public DeviceScratch(bool poison = true) => Poison = poison;

    /// <summary>Whether <see cref="New"/> fills every buffer with 0xFF bytes.</summary>
    public bool Poison { get; set; }

    /// <summary>How many device allocations the scratch made (buffers, arenas and uploads); constant once the step repeats.</summary>
    public long Allocations { get; private set; }

    /// <summary>Bytes of device memory the scratch holds now (arenas, buffers outside them and owned tensors).</summary>
    public long Bytes =>
        (_arena?.ByteCount ?? 0) + (_nextArena is { } next && next != _arena ? next.ByteCount : 0)
        + _unplanned.Sum(t => t.ByteCount) + _owned.Sum(t => t.ByteCount);

    /// <summary>
    /// Starts the next step: the previous step's buffers are no longer valid, and the buffers are handed out again from
    /// the first request, in the arena laid out for the recorded sequence.
    /// </summary>
    public void Rewind()
    {
        Plan();
        if (_nextPlan is not null)
        {
            if (_arena is not null && _arena != _nextArena) _arena.Dispose(); // back to the allocator, reused in stream order
            _arena = _nextArena;
            _plan = _nextPlan;
            _nextArena = null;
            _nextPlan = null;
        }

        foreach (DeviceTensor tensor in _unplanned) tensor.Dispose();
        _unplanned.Clear();
        _events.Clear();
        _requests.Clear();
        _onPlan = _plan is not null;
    }

    /// <summary>
    /// Lays out the arena for the sequence recorded so far, if the current one does not cover it, and allocates it
    /// now (it is used from the next <see cref="Rewind"/>; this step's buffers stay valid until then).
    /// </summary>
    public void Plan()
    {
        if (_events.Count == 0 || _nextPlan is not null || (_plan is not null && _plan.Covers(_events))) return;
        ScratchPlan plan = ScratchPlan.For(_events);
        DeviceTensor? current = _arena;
        if (current is null || current.ByteCount < plan.ArenaBytes)
        {
            current = DeviceTensor.Allocate(DType.Int32, plan.ArenaBytes / sizeof(int));
            Allocations++;
        }

        _nextPlan = plan;
        _nextArena = current;
    }

    /// <summary>Takes ownership of <paramref name="tensor"/> until <see cref="Dispose"/> (not reused by <see cref="New"/>); returns it.</summary>
    public DeviceTensor Own(DeviceTensor tensor)
    {
        _owned.Add(tensor);
        return tensor;
    }

    /// <summary>The next buffer: in the arena where the step follows the recorded sequence, else a buffer of its own.</summary>
    public DeviceTensor New(DType dtype, params long[] shape)
    {
        int request = _requests.Count;
        Record(ScratchEvent.Request(dtype, shape));
        DeviceTensor tensor;
        if (_onPlan)
        {
            tensor = DeviceTensor.Wrap(_arena!.Pointer + (nint)_plan!.Offsets[request], dtype, shape, _arena.Device, owner: _arena);
        }
        else
        {
            tensor = DeviceTensor.Allocate(dtype, shape);
            Allocations++;
            _unplanned.Add(tensor);
        }

        _requests.Add(tensor, request);
        if (Poison) tensor.Fill(0xFF);
        return tensor;
    }

    /// <summary>
    /// Says that <paramref name="tensor"/> (from <see cref="New"/> in this step) is read by no kernel queued after
    /// this call, so that later requests may share its bytes. Call it after the last call that reads it.
    /// </summary>
    public void Release(DeviceTensor tensor)
    {
        if (!_requests.TryGetValue(tensor, out int request))
            throw new ArgumentException($"{tensor} was not handed out by this scratch in this step.", nameof(tensor));
        Record(ScratchEvent.Release(request));
    }

    private void Record(ScratchEvent e)
    {
        _events.Add(e);
        if (_onPlan && (_events.Count > _plan!.Events.Count || _plan.Events[_events.Count - 1] != e)) _onPlan = false;
    }

    /// <summary>Float64 values uploaded as <paramref name="dtype"/> (rounded to nearest even), owned.</summary>
    public DeviceTensor Upload(double[] values, DType dtype, params long[] shape)
    {
        DeviceTensor tensor = Own(DeviceTensor.Allocate(dtype, shape));
        Allocations++;
        Load(tensor, values);
        return tensor;
    }

    /// <summary>Float64 values uploaded as float32, owned.</summary>
    public DeviceTensor Upload(double[] values, params long[] shape) => Upload(values, DType.Float32, shape);

    /// <summary>Int32 values uploaded, owned.</summary>
    public DeviceTensor Upload(int[] values)
    {
        Allocations++;
        return Own(DeviceTensor.FromArray(values, values.Length));
    }

    /// <summary>Int64 values uploaded, owned.</summary>
    public DeviceTensor Upload(long[] values)
    {
        Allocations++;
        return Own(DeviceTensor.FromArray(values, values.Length));
    }

    /// <summary>Frees every tensor.</summary>
    public void Dispose()
    {
        if (_nextArena is not null && _nextArena != _arena) _nextArena.Dispose();
        _arena?.Dispose();
        foreach (DeviceTensor tensor in _unplanned) tensor.Dispose();
        foreach (DeviceTensor tensor in _owned) tensor.Dispose();
        _arena = _nextArena = null;
        _plan = _nextPlan = null;
        _unplanned.Clear();
        _owned.Clear();
        _events.Clear();
        _requests.Clear();
        _onPlan = false;
    }

    /// <summary>Float64 values rounded to float32.</summary>
    public static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    /// <summary>
    /// Copies float64 values into a float tensor of the same element count: float32 directly, bf16 and fp16 through a
    /// float32 staging tensor converted on the device (round to nearest even).
    /// </summary>
    public static void Load(DeviceTensor into, double[] values)
    {
        if (values.LongLength != into.ElementCount)
            throw new ArgumentException($"{into} has {into.ElementCount} elements; {values.LongLength} values given.", nameof(values));
        if (into.DType == DType.Float32)
        {
            into.CopyFrom<float>(ToFloat(values));
            return;
        }

        using DeviceTensor staging = DeviceTensor.FromArray(ToFloat(values), values.LongLength);
        MoeKernels.Convert(staging, into);
    }

    /// <summary>A float tensor (float32, bf16 or fp16) as float64.</summary>
    public static double[] Download(DeviceTensor tensor)
    {
        if (tensor.DType == DType.Float32) return tensor.ToArray<float>().Select(v => (double)v).ToArray();
        using DeviceTensor staging = DeviceTensor.Allocate(DType.Float32, tensor.ElementCount);
        MoeKernels.Convert(tensor, staging);
        return staging.ToArray<float>().Select(v => (double)v).ToArray();
    }

    /// <summary>A float tensor into <paramref name="into"/> (same length) as float64.</summary>
    public static void Download(DeviceTensor tensor, double[] into)
    {
        double[] values = Download(tensor);
        if (values.LongLength != into.LongLength)
            throw new ArgumentException($"{tensor} has {values.LongLength} values; {into.LongLength} expected.", nameof(into));
        values.CopyTo(into, 0);
    }
}
