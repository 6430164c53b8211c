namespace GroupedGemm.Bench.Running;

/// <summary>
/// Fills device tensors with fresh random values (standard normal, like <c>torch.randn</c> on the other side).
/// A random block is made on the host and copied once; the rest of the tensor is filled by doubling device-to-device
/// copies, so a 7.5 GB operand takes a fraction of a second instead of minutes of host-side generation.
/// </summary>
internal static class DeviceFill
{
    /// <summary>
    /// Elements generated on the host per tensor (4 MiB of bf16/fp16), far larger than any tile. Odd, so that the
    /// tensor's period aligns with no power-of-two stride: with 2^21, an expert's 256 x 256 weights (the float64
    /// sample's shrunk K and N) repeated every 32 experts, and a kernel that read the expert 32 away would have passed.
    /// </summary>
    private const int BlockElements = (1 << 21) - 1;

    /// <summary>Fills <paramref name="tensor"/> (bf16, fp16 or fp32) with N(0, 1) values.</summary>
    public static void Normal(DeviceTensor tensor, Random rng, CudaStream stream)
    {
        long count = tensor.ElementCount;
        if (count == 0) return;
        int first = (int)Math.Min(count, BlockElements);
        using DeviceTensor flat = tensor.Reshape(-1);
        switch (tensor.DType)
        {
            case DType.BFloat16:
                flat.CopyFrom<ushort>(Block(first, rng, v => BFloat16.FromSingle(v).Bits), 0, stream);
                break;
            case DType.Float16:
                flat.CopyFrom<ushort>(Block(first, rng, v => BitConverter.HalfToUInt16Bits((Half)v)), 0, stream);
                break;
            case DType.Float32:
                flat.CopyFrom<float>(Block(first, rng, v => v), 0, stream);
                break;
            default:
                throw new ArgumentException($"Cannot fill a {tensor.DType} tensor with normal values.", nameof(tensor));
        }

        for (long filled = first; filled < count;)
        {
            long length = Math.Min(filled, count - filled);
            using DeviceTensor target = flat.Slice(filled, length);
            using DeviceTensor source = flat.Slice(0, length);
            target.CopyFrom(source, stream);
            filled += length;
        }
    }

    private static T[] Block<T>(int count, Random rng, Func<float, T> convert)
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            // Box–Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));
            values[i] = convert((float)(radius * Math.Cos(2.0 * Math.PI * rng.NextDouble())));
        }

        return values;
    }
}
