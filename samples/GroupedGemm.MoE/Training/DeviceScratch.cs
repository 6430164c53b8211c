namespace GroupedGemm.MoE.Training;

/// <summary>
/// The device tensors of a GPU training step, freed together. <see cref="New"/> hands out the step's buffers in call
/// order; after <see cref="Rewind"/> the same sequence of calls gets the same tensors back, so a step that runs again
/// with the same shapes allocates nothing (<see cref="Allocations"/> counts the real allocations). With
/// <see cref="Poison"/> every buffer handed out is filled with 0xFF bytes (NaN), so that an element a kernel failed to
/// write shows in the result instead of passing as a stale value; the benchmark turns it off.
/// </summary>
internal sealed class DeviceScratch : IDisposable
{
    private readonly List<DeviceTensor> _buffers = [];
    private readonly List<DeviceTensor> _owned = [];
    private int _cursor;

    /// <summary>A scratch that poisons (<paramref name="poison"/>) or not the buffers it hands out.</summary>
    public DeviceScratch(bool poison = true) => Poison = poison;

    /// <summary>Whether <see cref="New"/> fills every buffer with 0xFF bytes.</summary>
    public bool Poison { get; set; }

    /// <summary>How many device allocations the scratch made (buffers and uploads); constant from the second step on.</summary>
    public long Allocations { get; private set; }

    /// <summary>Bytes of device memory the scratch holds now (its buffers and owned tensors, all live at once).</summary>
    public long Bytes => _buffers.Sum(t => t.ByteCount) + _owned.Sum(t => t.ByteCount);

    /// <summary>Hands the buffers out again from the first one (the next step).</summary>
    public void Rewind() => _cursor = 0;

    /// <summary>Takes ownership of <paramref name="tensor"/> until <see cref="Dispose"/> (not reused by <see cref="New"/>); returns it.</summary>
    public DeviceTensor Own(DeviceTensor tensor)
    {
        _owned.Add(tensor);
        return tensor;
    }

    /// <summary>The next buffer: the one handed out at this position last step when its type and shape match, else a new one.</summary>
    public DeviceTensor New(DType dtype, params long[] shape)
    {
        DeviceTensor? tensor = _cursor < _buffers.Count ? _buffers[_cursor] : null;
        if (tensor is null || tensor.DType != dtype || !tensor.Shape.SequenceEqual(shape))
        {
            tensor?.Dispose();
            tensor = DeviceTensor.Allocate(dtype, shape);
            Allocations++;
            if (_cursor < _buffers.Count) _buffers[_cursor] = tensor;
            else _buffers.Add(tensor);
        }

        _cursor++;
        if (Poison) tensor.Fill(0xFF);
        return tensor;
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
        foreach (DeviceTensor tensor in _buffers) tensor.Dispose();
        foreach (DeviceTensor tensor in _owned) tensor.Dispose();
        _buffers.Clear();
        _owned.Clear();
        _cursor = 0;
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
