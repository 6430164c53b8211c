using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Issue 23, item 8: Ops kept a context (cuBLAS handle, 32 MiB cuBLAS workspace, 5 MiB workspace) per thread per
/// device forever, so thread-pool code leaked one per thread that ever called.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class OpsContextTests : GpuFixture
{
    [Test]
    public void Ops_on_many_short_lived_threads_keeps_a_bounded_number_of_contexts()
    {
        const int threads = 48, m = 64, k = 32, n = 16, experts = 4;
        long[] counts = [16, 16, 16, 16];
        using DeviceTensor x = DeviceTensor.Allocate(DType.BFloat16, m, k);
        using DeviceTensor w = DeviceTensor.Allocate(DType.BFloat16, experts, k, n);
        x.Zero();
        w.Zero();
        int before = Ops.PooledContextCount + Ops.ThreadContextCount;
        for (int i = 0; i < threads; i++)
        {
            var thread = new Thread(() =>
            {
                using DeviceTensor y = Ops.Gmm(x, w, counts);
            });
            thread.Start();
            thread.Join();
        }

        int grown = Ops.PooledContextCount + Ops.ThreadContextCount - before;
        TestContext.Out.WriteLine($"{threads} threads left {grown} more contexts (bound {Ops.MaxIdleContextsPerDevice})");
        Assert.That(grown, Is.LessThanOrEqualTo(1), "one call at a time needs one context");
        Assert.That(Ops.ReleaseContexts(), Is.GreaterThanOrEqualTo(grown));
        Assert.That(Ops.PooledContextCount, Is.Zero);
    }

    [Test]
    public void Parallel_ops_calls_keep_at_most_the_bound_idle()
    {
        long[] counts = [16, 16, 16, 16];
        using DeviceTensor x = DeviceTensor.Allocate(DType.BFloat16, 64, 32);
        using DeviceTensor w = DeviceTensor.Allocate(DType.BFloat16, 4, 32, 16);
        x.Zero();
        w.Zero();
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            using DeviceTensor y = Ops.Gmm(x, w, counts);
        });
        Assert.That(Ops.PooledContextCount, Is.LessThanOrEqualTo(Math.Min(8, Ops.MaxIdleContextsPerDevice)));
        Ops.ReleaseContexts();
    }

    [Test]
    public void ReleaseThreadContexts_frees_the_calling_threads_contexts()
    {
        int before = Ops.ThreadContextCount;
        Task.Run(() =>
        {
            GroupedGemmContext mine = Ops.ContextFor(0);
            Assert.That(Ops.ContextFor(0), Is.SameAs(mine));
            Assert.That(Ops.ReleaseThreadContexts(), Is.EqualTo(1));
            Assert.Throws<ObjectDisposedException>(() => mine.Reserve(8));
            Assert.That(Ops.ContextFor(0), Is.Not.SameAs(mine));
            Assert.That(Ops.ReleaseThreadContexts(), Is.EqualTo(1));
        }).Wait();
        Assert.That(Ops.ThreadContextCount, Is.EqualTo(before));
    }
}
