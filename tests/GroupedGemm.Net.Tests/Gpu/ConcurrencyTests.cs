using System.Collections.Concurrent;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Several threads, each with its own context and stream, at once.</summary>
[TestFixture]
[Category("Gpu")]
public class ConcurrencyTests
{
    [SetUp]
    public void RequireDevice() => GpuGuard.Require();

    [Test]
    public void Threads_with_their_own_context_and_stream_all_get_correct_results()
    {
        const int threads = 4, iterations = 5, k = 128, n = 96, experts = 8;
        var errors = new ConcurrentBag<string>();
        var failures = new ConcurrentBag<Exception>();
        int seed = Random.Shared.Next();
        TestContext.Out.WriteLine($"seed {seed}");

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                var random = new Random(seed + t);
                CudaDevice.Current = 0;
                using var context = new GroupedGemmContext(0);
                using CudaStream stream = CudaStream.Create();
                var options = new GmmOptions { Stream = stream };
                for (int i = 0; i < iterations; i++)
                {
                    long[] counts = Routing.Zipf(random, 500 + random.Next(500), experts);
                    long m = counts.Sum();
                    (DeviceTensor a, double[] aRef) = DeviceData.Random(random, DType.BFloat16, m, k);
                    (DeviceTensor b, double[] bRef) = DeviceData.Random(random, DType.BFloat16, experts, k, n);
                    using (a)
                    using (b)
                    using (DeviceTensor c = DeviceTensor.Allocate(DType.BFloat16, m, n))
                    {
                        c.Poison(stream);
                        context.GmmInto(a, b, counts, c, options: options);
                        stream.Synchronize();
                        double error = CpuReference.RelativeError(DeviceData.Download(c), CpuReference.Gmm(aRef, bRef, counts, k, n));
                        if (!(error <= DeviceData.Tolerance(DType.BFloat16))) errors.Add($"thread {t} iteration {i}: {error:E3}");
                    }
                }
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.That(failures, Is.Empty, string.Join(Environment.NewLine, failures));
        Assert.That(errors, Is.Empty);
    }
}
