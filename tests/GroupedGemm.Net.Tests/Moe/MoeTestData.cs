using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>Device access, fresh random data, host/device transfers in every float type, and error bounds for the MoE tests.</summary>
internal static class MoeTestData
{
    /// <summary>The float element types every kernel takes.</summary>
    internal static readonly DType[] FloatTypes = [DType.Float32, DType.Float16, DType.BFloat16];

    /// <summary>Skips the test (with the reason) where there is no native library or no CUDA device.</summary>
    internal static void RequireGpu()
    {
        string? reason = CudaDevice.UnavailableReason;
        if (reason is not null) Assert.Ignore($"GPU test skipped: {reason}");
    }

    /// <summary>A generator with a fresh seed, written to the test output so that a failure can be replayed.</summary>
    internal static Random NewRandom()
    {
        int seed = Random.Shared.Next();
        TestContext.Out.WriteLine($"seed {seed}");
        return new Random(seed);
    }

    /// <summary>Uniform values in [-scale, scale).</summary>
    internal static double[] Uniform(Random random, long count, double scale = 1)
    {
        var values = new double[count];
        for (long i = 0; i < count; i++) values[i] = (random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>Random non-negative counts for <paramref name="experts"/> experts summing to <paramref name="rows"/> (some zero).</summary>
    internal static long[] RandomCounts(Random random, int rows, int experts)
    {
        var counts = new long[experts];
        for (int i = 0; i < rows; i++)
        {
            // Square the uniform draw: a skewed spread, with some experts empty.
            int e = (int)(Math.Pow(random.NextDouble(), 2) * experts);
            counts[e]++;
        }

        return counts;
    }

    /// <summary>Each value rounded (to nearest even) to <paramref name="dtype"/>, as float64.</summary>
    internal static double[] RoundTo(double[] values, DType dtype) => dtype switch
    {
        DType.Float32 => values.Select(v => (double)(float)v).ToArray(),
        DType.Float16 => values.Select(v => (double)(Half)v).ToArray(),
        DType.BFloat16 => values.Select(v => (double)BFloat16.FromSingle((float)v)).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a float type."),
    };

    /// <summary>
    /// Uploads <paramref name="values"/> rounded to <paramref name="dtype"/>; returns the tensor and the values as stored,
    /// which are what the reference must use.
    /// </summary>
    internal static (DeviceTensor Tensor, double[] Stored) Upload(double[] values, DType dtype, params long[] shape)
    {
        double[] stored = RoundTo(values, dtype);
        DeviceTensor tensor = dtype switch
        {
            DType.Float32 => DeviceTensor.FromArray(stored.Select(v => (float)v).ToArray(), shape),
            DType.Float16 => DeviceTensor.FromArray(stored.Select(v => (Half)v).ToArray(), shape),
            DType.BFloat16 => DeviceTensor.FromArray(stored.Select(v => BFloat16.FromSingle((float)v)).ToArray(), shape),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a float type."),
        };
        return (tensor, stored);
    }

    /// <summary>Reads a float tensor back as float64.</summary>
    internal static double[] Download(DeviceTensor tensor) => tensor.DType switch
    {
        DType.Float32 => tensor.ToArray<float>().Select(v => (double)v).ToArray(),
        DType.Float16 => tensor.ToArray<Half>().Select(v => (double)v).ToArray(),
        DType.BFloat16 => tensor.ToArray<BFloat16>().Select(v => (double)v).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DType, "Not a float type."),
    };

    /// <summary>A new tensor whose every byte is 0xFF (NaN, or -1 for integers), so unwritten elements show.</summary>
    internal static DeviceTensor Poisoned(DType dtype, params long[] shape)
    {
        DeviceTensor t = DeviceTensor.Allocate(dtype, shape);
        t.Poison();
        return t;
    }

    /// <summary>
    /// Bound on ‖out − ref‖/‖ref‖ for a kernel with fp32 math whose output is rounded to <paramref name="dtype"/>:
    /// a few units of the output's rounding error.
    /// </summary>
    internal static double Tolerance(DType dtype) => dtype switch
    {
        DType.Float32 => 1e-5,
        DType.Float16 => 2e-3,
        DType.BFloat16 => 1.2e-2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Asserts the relative error of <paramref name="actual"/> against <paramref name="reference"/> is below <paramref name="bound"/>, and that no element is NaN.</summary>
    internal static void AssertClose(double[] actual, double[] reference, double bound, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(reference.Length), $"{what}: length");
        int nan = Array.FindIndex(actual, double.IsNaN);
        Assert.That(nan, Is.EqualTo(-1), $"{what}: element {nan} is NaN (never written?)");
        double error = CpuReference.RelativeError(actual, reference);
        TestContext.Out.WriteLine($"{what}: relative error {error:E3} (bound {bound:E1})");
        Assert.That(error, Is.LessThan(bound), what);
    }

    /// <summary>Asserts two float64 arrays are bitwise equal, NaN matching NaN; reports the first difference.</summary>
    internal static void AssertExact(double[] actual, double[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            bool same = actual[i].Equals(expected[i]); // Equals treats NaN as equal to NaN
            if (!same) Assert.Fail($"{what}: element {i} is {actual[i]} but {expected[i]} was expected.");
        }
    }
}
