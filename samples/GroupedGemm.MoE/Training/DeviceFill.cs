namespace GroupedGemm.MoE.Training;

/// <summary>
/// Fills large device tensors with seeded uniform values without a host copy of the whole tensor: one pool of random
/// float32 values is drawn on the host and copied in at a random offset per chunk, through a float32 staging tensor
/// converted to the tensor's type. For the benchmark's parameters (the seed's large configuration holds 1.3 G
/// parameters in float64 on the host otherwise); the values only need to be realistic, not independent.
/// </summary>
internal static class DeviceFill
{
    private const int Pool = 1 << 20;
    private const int Chunk = 1 << 22;

    /// <summary>Fills <paramref name="tensor"/> (a float type) uniform in [-bound, bound).</summary>
    public static void Uniform(DeviceTensor tensor, Random random, double bound)
    {
        var pool = new float[Pool + Chunk];
        for (int i = 0; i < pool.Length; i++) pool[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        using DeviceTensor staging = DeviceTensor.Allocate(DType.Float32, Math.Min(Chunk, Math.Max(1, tensor.ElementCount)));
        DeviceTensor flat = tensor.Reshape(-1);
        for (long start = 0; start < tensor.ElementCount; start += Chunk)
        {
            int length = (int)Math.Min(Chunk, tensor.ElementCount - start);
            DeviceTensor stage = staging.Slice(0, length);
            stage.CopyFrom<float>(pool.AsSpan(random.Next(Pool), length));
            MoeKernels.Convert(stage, flat.Slice(start, length));
        }
    }
}
