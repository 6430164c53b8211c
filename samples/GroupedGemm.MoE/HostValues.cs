namespace GroupedGemm.MoE;

/// <summary>Host copies of parameters and activations: seeded initialisation, rounding to the device type, transfers.</summary>
internal static class HostValues
{
    /// <summary><paramref name="count"/> values uniform in [-bound, bound) from <paramref name="random"/>, rounded to <paramref name="dtype"/>.</summary>
    public static float[] Uniform(Random random, long count, double bound, DType dtype)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return RoundInPlace(values, dtype);
    }

    /// <summary>Rounds every value to the nearest <paramref name="dtype"/> value (kept as float, which holds it exactly).</summary>
    public static float[] RoundInPlace(float[] values, DType dtype)
    {
        switch (dtype)
        {
            case DType.Float16:
                for (long i = 0; i < values.LongLength; i++) values[i] = (float)(Half)values[i];
                break;
            case DType.BFloat16:
                for (long i = 0; i < values.LongLength; i++) values[i] = BFloat16.FromSingle(values[i]).ToSingle();
                break;
        }

        return values;
    }

    /// <summary>Per expert, the transpose of a row-major [E, rows, cols] array: [E, cols, rows].</summary>
    public static float[] TransposeExperts(float[] w, int experts, int rows, int cols)
    {
        var transposed = new float[w.LongLength];
        for (long e = 0; e < experts; e++)
        {
            for (long r = 0; r < rows; r++)
            {
                for (long c = 0; c < cols; c++) transposed[((e * cols) + c) * rows + r] = w[((e * rows) + r) * cols + c];
            }
        }

        return transposed;
    }

    /// <summary>Copies float values to a new device tensor of <paramref name="dtype"/> (converted on the device).</summary>
    public static DeviceTensor Upload(float[] values, DType dtype, params long[] shape)
    {
        DeviceTensor f32 = DeviceTensor.FromArray(values, shape);
        if (dtype == DType.Float32) return f32;
        using (f32)
        {
            DeviceTensor converted = DeviceTensor.Allocate(dtype, shape);
            MoeKernels.Convert(f32, converted);
            CudaStream.Default.Synchronize();
            return converted;
        }
    }

    /// <summary>Reads a float tensor of any float type back as float values.</summary>
    public static float[] Download(DeviceTensor tensor, CudaStream stream)
    {
        if (tensor.DType == DType.Float32)
        {
            stream.Synchronize();
            return tensor.ToArray<float>();
        }

        using DeviceTensor f32 = DeviceTensor.Allocate(DType.Float32, [.. tensor.Shape]);
        MoeKernels.Convert(tensor, f32, stream);
        stream.Synchronize();
        return f32.ToArray<float>();
    }
}
