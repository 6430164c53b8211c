using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Device memory: round trips, offsets, views, fills, dense GEMM and device queries.</summary>
[TestFixture]
[Category("Gpu")]
public class DeviceTensorTests : GpuFixture
{
    [Test]
    public void Host_round_trips_keep_every_bit()
    {
        Random random = TestRandom.Create();
        float[] f = Enumerable.Range(0, 1000).Select(_ => (float)random.NextDouble()).ToArray();
        Half[] h = f.Select(v => (Half)v).ToArray();
        BFloat16[] bf = f.Select(v => (BFloat16)v).ToArray();
        int[] i32 = Enumerable.Range(0, 1000).Select(_ => random.Next()).ToArray();
        long[] i64 = Enumerable.Range(0, 1000).Select(_ => random.NextInt64()).ToArray();
        using (DeviceTensor t = DeviceTensor.FromArray(f)) Assert.That(t.ToArray<float>(), Is.EqualTo(f));
        using (DeviceTensor t = DeviceTensor.FromArray(h)) Assert.That(t.ToArray<Half>(), Is.EqualTo(h));
        using (DeviceTensor t = DeviceTensor.FromArray(bf, 10, 100))
        {
            Assert.That(t.DType, Is.EqualTo(DType.BFloat16));
            Assert.That(t.ToArray<ushort>(), Is.EqualTo(bf.Select(v => v.Bits).ToArray()));
        }

        using (DeviceTensor t = DeviceTensor.FromArray(i32)) Assert.That(t.ToArray<int>(), Is.EqualTo(i32));
        using (DeviceTensor t = DeviceTensor.FromArray(i64)) Assert.That(t.ToArray<long>(), Is.EqualTo(i64));
    }

    [Test]
    public void Offsets_views_fills_and_device_copies()
    {
        using DeviceTensor t = DeviceTensor.FromArray(Enumerable.Range(0, 24).Select(v => (float)v).ToArray(), 4, 6);
        var part = new float[5];
        t.CopyTo<float>(part, elementOffset: 7);
        Assert.That(part, Is.EqualTo(new float[] { 7, 8, 9, 10, 11 }));
        t.CopyFrom<float>(new float[] { -1, -2 }, elementOffset: 22);
        Assert.That(t.Slice(3, 1).ToArray<float>(), Is.EqualTo(new float[] { 18, 19, 20, 21, -1, -2 }));
        Assert.That(t.Reshape(2, 12).Slice(1, 1).ToArray<float>()[0], Is.EqualTo(12f));

        using DeviceTensor copy = DeviceTensor.Allocate(DType.Float32, 24);
        copy.CopyFrom(t);
        Assert.That(copy.ToArray<float>(), Is.EqualTo(t.ToArray<float>()));
        copy.Poison();
        Assert.That(copy.ToArray<float>(), Is.All.NaN);
        copy.Zero();
        Assert.That(copy.ToArray<float>(), Is.All.EqualTo(0f));
        using DeviceTensor empty = DeviceTensor.Allocate(DType.BFloat16, 0, 16);
        Assert.That(empty.ToArray<BFloat16>(), Is.Empty);
    }

    [Test]
    public void Dense_gemm_matches_reference([Values] bool transA, [Values] bool transB, [Values] bool batched)
    {
        const int batch = 3, m = 40, k = 72, n = 56;
        Random random = TestRandom.Create();
        long[] aShape = transA ? [k, m] : [m, k];
        long[] bShape = transB ? [n, k] : [k, n];
        (DeviceTensor a, double[] aRef) = DeviceData.Random(random, DType.Float32, batched ? [batch, .. aShape] : aShape);
        (DeviceTensor b, double[] bRef) = DeviceData.Random(random, DType.Float32, bShape); // shared across the batch
        using (a)
        using (b)
        using (DeviceTensor c = Context.Gemm(a, b, transA, transB))
        {
            int count = batched ? batch : 1;
            var expected = new double[count * m * n];
            for (int p = 0; p < count; p++)
            {
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double sum = 0;
                        for (int q = 0; q < k; q++)
                        {
                            double av = transA ? aRef[(p * m * k) + (q * m) + i] : aRef[(p * m * k) + (i * k) + q];
                            double bv = transB ? bRef[(j * k) + q] : bRef[(q * n) + j];
                            sum += av * bv;
                        }

                        expected[(p * m * n) + (i * n) + j] = sum;
                    }
                }
            }

            AssertClose(DeviceData.Download(c), expected, DType.Float32, $"dense transA={transA} transB={transB} batched={batched}");
        }
    }

    [Test]
    public void Device_queries_describe_the_machine()
    {
        Assert.That(CudaDevice.Count, Is.GreaterThanOrEqualTo(1));
        Assert.That(CudaDevice.IsAvailable, Is.True);
        CudaDeviceProperties p = CudaDevice.GetProperties(0);
        Assert.That(p.Name, Is.Not.Empty);
        Assert.That(p.Major, Is.GreaterThanOrEqualTo(7));
        Assert.That(p.MultiprocessorCount, Is.Positive);
        Assert.That(p.TotalMemory, Is.Positive);
        Assert.That(CudaDevice.DriverVersion, Is.GreaterThan(10000));
        NativeBuildInfo info = CudaDevice.BuildInfo;
        Assert.That(info.Architectures, Is.Not.Empty);
        TestContext.Out.WriteLine($"{p} driver {CudaDevice.DriverVersion}; {info}");
    }
}
