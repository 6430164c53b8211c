namespace GroupedGemm.Tests.Support;

/// <summary>Host data in every float type, uploaded as stored, read back as float64, and the error bounds per type.</summary>
internal static class DeviceData
{
    /// <summary>The float element types.</summary>
    internal static readonly DType[] FloatTypes = [DType.BFloat16, DType.Float16, DType.Float32];

    /// <summary>
    /// Bound on ‖out − ref‖ / ‖ref‖ against the float64 reference computed from the rounded inputs. The products
    /// accumulate in fp32, so the error is dominated by rounding the output once to the storage type: about
    /// 2^-9/√3 ≈ 1e-3 for bf16 (8 significant bits) and 2^-12/√3 ≈ 1.4e-4 for fp16 (11 bits); the bounds leave
    /// a margin of about 10× (bf16 1.5e-2, fp16 5e-3) for the fp32 accumulation order and split-K reductions.
    /// fp32 outputs carry no storage rounding; 1e-4 holds for true fp32 accumulation (error ~1e-6 here) but not
    /// for TF32 tensor cores (10-bit mantissa, ≈ 5e-4), so a backend that silently used TF32 would fail.
    /// </summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>The bound.</returns>
    internal static double Tolerance(DType dtype) => dtype switch
    {
        DType.Float32 => 1e-4,
        DType.Float16 => 5e-3,
        DType.BFloat16 => 1.5e-2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Rounds values to <paramref name="dtype"/> and uploads them; returns the tensor and the stored values.</summary>
    /// <param name="values">The values.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <returns>The tensor and the values as stored (what the reference must use).</returns>
    internal static (DeviceTensor Tensor, double[] Stored) Upload(double[] values, DType dtype, params long[] shape)
    {
        switch (dtype)
        {
            case DType.Float32:
            {
                float[] f = Array.ConvertAll(values, v => (float)v);
                return (DeviceTensor.FromArray(f, shape), CpuReference.ToDouble(f));
            }

            case DType.Float16:
            {
                Half[] h = Array.ConvertAll(values, v => (Half)v);
                return (DeviceTensor.FromArray(h, shape), CpuReference.ToDouble(h));
            }

            case DType.BFloat16:
            {
                BFloat16[] b = Array.ConvertAll(values, v => (BFloat16)(float)v);
                return (DeviceTensor.FromArray(b, shape), CpuReference.ToDouble(b));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    /// <summary>Random values in [-1, 1) of <paramref name="dtype"/> on the device.</summary>
    /// <param name="random">The generator.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <returns>The tensor and the values as stored.</returns>
    internal static (DeviceTensor Tensor, double[] Stored) Random(Random random, DType dtype, params long[] shape)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        return Upload(TestRandom.Uniform(random, count), dtype, shape);
    }

    /// <summary>Reads a float tensor back as float64.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns>Its values.</returns>
    internal static double[] Download(DeviceTensor tensor) => tensor.DType switch
    {
        DType.Float32 => CpuReference.ToDouble(tensor.ToArray<float>()),
        DType.Float16 => CpuReference.ToDouble(tensor.ToArray<Half>()),
        DType.BFloat16 => CpuReference.ToDouble(tensor.ToArray<BFloat16>()),
        _ => throw new ArgumentOutOfRangeException(nameof(tensor)),
    };

    /// <summary>Reads <paramref name="count"/> elements from <paramref name="offset"/> as float64.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="offset">First element.</param>
    /// <param name="count">Number of elements.</param>
    /// <returns>Their values.</returns>
    internal static double[] Download(DeviceTensor tensor, long offset, int count)
    {
        switch (tensor.DType)
        {
            case DType.Float32:
            {
                var f = new float[count];
                tensor.CopyTo<float>(f, offset);
                return CpuReference.ToDouble(f);
            }

            case DType.Float16:
            {
                var h = new Half[count];
                tensor.CopyTo<Half>(h, offset);
                return CpuReference.ToDouble(h);
            }

            default:
            {
                var b = new BFloat16[count];
                tensor.CopyTo<BFloat16>(b, offset);
                return CpuReference.ToDouble(b);
            }
        }
    }
}
