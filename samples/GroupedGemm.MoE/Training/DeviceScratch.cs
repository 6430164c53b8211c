namespace GroupedGemm.MoE.Training;

/// <summary>
/// The device tensors of one GPU training step, freed together. New tensors are poisoned (every byte 0xFF: NaN), so
/// that an element a kernel failed to write shows in the result instead of passing as a stale value.
/// </summary>
internal sealed class DeviceScratch : IDisposable
{
    private readonly List<DeviceTensor> _tensors = [];

    /// <summary>Takes ownership of <paramref name="tensor"/>; returns it.</summary>
    public DeviceTensor Own(DeviceTensor tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }

    /// <summary>A new poisoned tensor.</summary>
    public DeviceTensor New(DType dtype, params long[] shape)
    {
        DeviceTensor tensor = Own(DeviceTensor.Allocate(dtype, shape));
        tensor.Fill(0xFF);
        return tensor;
    }

    /// <summary>Float64 values uploaded as float32.</summary>
    public DeviceTensor Upload(double[] values, params long[] shape) => Own(DeviceTensor.FromArray(ToFloat(values), shape));

    /// <summary>Int32 values uploaded.</summary>
    public DeviceTensor Upload(int[] values) => Own(DeviceTensor.FromArray(values, values.Length));

    /// <summary>Int64 values uploaded.</summary>
    public DeviceTensor Upload(long[] values) => Own(DeviceTensor.FromArray(values, values.Length));

    /// <summary>Frees every tensor.</summary>
    public void Dispose()
    {
        foreach (DeviceTensor tensor in _tensors) tensor.Dispose();
        _tensors.Clear();
    }

    /// <summary>Float64 values rounded to float32.</summary>
    public static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    /// <summary>A float32 tensor as float64.</summary>
    public static double[] Download(DeviceTensor tensor) => tensor.ToArray<float>().Select(v => (double)v).ToArray();

    /// <summary>A float32 tensor into <paramref name="into"/> (same length) as float64.</summary>
    public static void Download(DeviceTensor tensor, double[] into)
    {
        float[] values = tensor.ToArray<float>();
        if (values.LongLength != into.LongLength)
            throw new ArgumentException($"{tensor} has {values.LongLength} values; {into.LongLength} expected.", nameof(into));
        for (long i = 0; i < values.LongLength; i++) into[i] = values[i];
    }
}
