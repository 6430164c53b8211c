using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Repeated calls hold no more device memory than their first ones. One pass over every backend, form, counts location
/// and element type first grows what a call may keep: the context's workspace, cuBLAS's handles, the kernels loaded at
/// first use. Ten more passes over the same calls must then leave the card's free memory where that pass left it.
/// A library that kept device memory per call would run a long training job out of memory. Written when the 0.13.0
/// memcheck's parity shards ran out of an H100's memory; that was PyTorch's own tensors under the sanitizer, and this test
/// passed on the 0.13.0 library (docs/reliability.md, hazard 15).
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class DeviceMemoryGrowthTests : GpuFixture
{
    private const int Passes = 10;

    // One page of the driver's allocation granularity: the most a pass may move free memory without holding more.
    private const long SlackBytes = 2L << 20;

    /// <summary>
    /// Calls that reach the paths with scratch memory of their own: a decode forward and weight gradient, the decode
    /// split of K, a zipf-like GEMM, and a weight gradient long enough for split-K.
    /// </summary>
    private static readonly (string Name, long[] Counts, int K, int N)[] Cases =
    [
        ("6 rows over 300 experts", Routing.Spread(300, (5, 2), (77, 1), (150, 3)), 1024, 264),
        ("4 rows at k = 8192", Routing.Spread(16, (3, 4)), 8192, 256),
        ("1000 rows over 16 experts, zipf-like", Routing.Spread(16, (0, 500), (1, 250), (2, 125), (3, 62), (5, 40), (9, 23)), 256, 512),
        ("36871 rows over 4 experts", Routing.Spread(4, (0, 18000), (1, 9000), (2, 6000), (3, 3871)), 2048, 1024),
    ];

    /// <summary>The calls of every case, ten times over after a first pass, change the card's free memory by at most one page.</summary>
    [Test]
    public void Repeated_calls_hold_no_more_device_memory_than_the_first_pass()
    {
        Random random = TestRandom.Create();
        var owned = new List<IDisposable>();
        var calls = new List<(string What, Action Call)>();
        try
        {
            foreach ((string name, long[] counts, int k, int n) in Cases)
            {
                int experts = counts.Length;
                long m = counts.Sum();
                DeviceTensor deviceCounts = DeviceTensor.FromArray(counts, experts);
                owned.Add(deviceCounts);
                foreach (DType dtype in DeviceData.FloatTypes)
                {
                    DeviceTensor a = DeviceData.Random(random, dtype, m, k).Tensor;
                    owned.Add(a);
                    foreach (GmmForm form in Enum.GetValues<GmmForm>())
                    {
                        DeviceTensor b = DeviceData.Random(random, dtype, form.B(m, experts, k, n)).Tensor;
                        owned.Add(b);
                        DeviceTensor c = DeviceTensor.Allocate(dtype, form.C(m, experts, k, n));
                        owned.Add(c);
                        foreach (GemmBackend backend in Enum.GetValues<GemmBackend>())
                        {
                            foreach (DeviceTensor? onDevice in new[] { null, deviceCounts })
                            {
                                if (!Supported(backend, a, b, counts, onDevice, c, form, out _)) continue;
                                string what = $"{name}, {dtype} {form}, {backend}, {(onDevice is null ? "host" : "device")} counts";
                                calls.Add((what, () => Run(a, b, counts, onDevice, c, form, false, backend)));
                            }
                        }
                    }
                }
            }

            foreach ((string what, Action call) in calls)
            {
                try
                {
                    call();
                    CudaDevice.Synchronize();
                }
                catch (GroupedGemmException ex)
                {
                    Assert.Fail($"{what}: {ex.Message}");
                }
            }

            long afterFirst = CudaDevice.GetMemoryInfo(0).Free;
            for (int pass = 0; pass < Passes; pass++)
            {
                foreach ((_, Action call) in calls) call();
            }

            CudaDevice.Synchronize();
            long afterAll = CudaDevice.GetMemoryInfo(0).Free;
            TestContext.Out.WriteLine($"{calls.Count} calls a pass; free after the first pass {afterFirst >> 20} MiB, after " +
                $"{Passes} more {afterAll >> 20} MiB");
            Assert.That(calls, Has.Count.GreaterThan(Cases.Length * 3), "calls that the backends took");
            Assert.That(afterFirst - afterAll, Is.LessThanOrEqualTo(SlackBytes),
                $"device memory held by {Passes} more passes of the same {calls.Count} calls (bytes)");
        }
        finally
        {
            foreach (IDisposable d in owned) d.Dispose();
        }
    }
}
