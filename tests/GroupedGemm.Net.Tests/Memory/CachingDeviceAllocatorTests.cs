using NUnit.Framework;

namespace GroupedGemm.Tests.Memory;

/// <summary>
/// Issue 27: the caching allocator's logic over a fake backing allocator, without a GPU. Blocks are reused only on the
/// stream they were allocated for, blocks used on other streams are never cached, running out of memory empties the
/// cache (after a device synchronisation) and retries once, and the statistics add up.
/// </summary>
[TestFixture]
public class CachingDeviceAllocatorTests
{
    private const nint StreamA = 0x1000, StreamB = 0x2000;

    private FakeBackingAllocator _backing = null!;
    private List<int> _synchronized = null!;
    private CachingDeviceAllocator _cache = null!;

    [SetUp]
    public void Create()
    {
        _backing = new FakeBackingAllocator();
        _synchronized = [];
        _cache = new CachingDeviceAllocator(_backing, device => { lock (_synchronized) _synchronized.Add(device); });
    }

    [Test]
    public void A_freed_block_is_reused_on_its_stream()
    {
        nint first = _cache.Allocate(0, 1000, StreamA);
        _cache.Free(0, first, 1000, StreamA, usedOnOtherStreams: false);
        nint second = _cache.Allocate(0, 900, StreamA);

        Assert.That(second, Is.EqualTo(first));
        DeviceAllocatorStatistics stats = _cache.Statistics;
        Assert.That(stats.BackingAllocations, Is.EqualTo(1));
        Assert.That(stats.CacheHits, Is.EqualTo(1));
        Assert.That(stats.BytesInUse, Is.EqualTo(1024), "900 bytes round up to 1024");
        Assert.That(stats.BytesReserved, Is.EqualTo(1024));
    }

    [Test]
    public void A_freed_block_is_not_handed_to_another_stream_or_device()
    {
        nint first = _cache.Allocate(0, 1000, StreamA);
        _cache.Free(0, first, 1000, StreamA, usedOnOtherStreams: false);

        nint onB = _cache.Allocate(0, 1000, StreamB);
        nint onDevice1 = _cache.Allocate(1, 1000, StreamA);

        Assert.That(onB, Is.Not.EqualTo(first), "work queued on stream A may still use the block");
        Assert.That(onDevice1, Is.Not.EqualTo(first));
        Assert.That(_cache.Statistics.BackingAllocations, Is.EqualTo(3));
        Assert.That(_cache.Statistics.CacheHits, Is.Zero);
    }

    [Test]
    public void A_block_used_on_other_streams_goes_back_to_the_backing_allocator()
    {
        nint block = _cache.Allocate(0, 4096, StreamA);
        _cache.Free(0, block, 4096, StreamA, usedOnOtherStreams: true);

        Assert.That(_backing.Frees, Is.EqualTo(new[] { (block, StreamA, true) }));
        Assert.That(_cache.Allocate(0, 4096, StreamA), Is.Not.EqualTo(block));
        Assert.That(_cache.Statistics.BackingFrees, Is.EqualTo(1));
    }

    [Test]
    public void The_smallest_fitting_block_is_taken_and_much_larger_ones_are_not()
    {
        nint small = _cache.Allocate(0, 2048, StreamA);
        nint medium = _cache.Allocate(0, 3072, StreamA);
        nint huge = _cache.Allocate(0, 8L << 20, StreamA);
        foreach ((nint p, long b) in new[] { (small, 2048L), (medium, 3072L), (huge, 8L << 20) })
            _cache.Free(0, p, b, StreamA, usedOnOtherStreams: false);

        Assert.That(_cache.Allocate(0, 1500, StreamA), Is.EqualTo(small), "2048 is the best fit for 1536");
        Assert.That(_cache.Allocate(0, 1500, StreamA), Is.EqualTo(medium), "3072 is within twice 1536");
        nint fresh = _cache.Allocate(0, 1500, StreamA);
        Assert.That(fresh, Is.Not.EqualTo(huge), "an 8 MiB block must not serve 1.5 KiB");
    }

    [Test]
    public void Out_of_memory_synchronises_empties_the_cache_and_retries_once()
    {
        _backing.Capacity = 8L << 20;
        nint a = _cache.Allocate(0, 4L << 20, StreamA);
        nint b = _cache.Allocate(0, 2L << 20, StreamB);
        _cache.Free(0, a, 4L << 20, StreamA, usedOnOtherStreams: false);

        // 6 MiB does not fit beside the cached 4 MiB block (too small to serve it) and the 2 MiB in use.
        nint c = _cache.Allocate(0, 6L << 20, StreamA);

        Assert.That(_synchronized, Is.EqualTo(new[] { 0 }), "cached blocks may still be used by queued work");
        Assert.That(_backing.Frees.Select(f => f.Pointer), Is.EqualTo(new[] { a }));
        DeviceAllocatorStatistics stats = _cache.Statistics;
        Assert.That(stats.OutOfMemoryRetries, Is.EqualTo(1));
        Assert.That(stats.BytesInUse, Is.EqualTo((2L << 20) + (6L << 20)));
        Assert.That(stats.BytesReserved, Is.EqualTo(stats.BytesInUse));

        // A second failure propagates.
        Assert.Throws<CudaOutOfMemoryException>(() => _cache.Allocate(0, 1L << 20, StreamA));
        _cache.Free(0, b, 2L << 20, StreamB, usedOnOtherStreams: false);
        _cache.Free(0, c, 6L << 20, StreamA, usedOnOtherStreams: false);
    }

    [Test]
    public void EmptyCache_gives_back_cached_blocks_only()
    {
        nint kept = _cache.Allocate(0, 1L << 20, StreamA);
        nint cached = _cache.Allocate(1, 3L << 20, StreamB);
        _cache.Free(1, cached, 3L << 20, StreamB, usedOnOtherStreams: false);

        long released = _cache.EmptyCache();

        Assert.That(released, Is.EqualTo(4L << 20), "3 MiB rounds up to 4 MiB");
        Assert.That(_synchronized, Is.EqualTo(new[] { 1 }));
        Assert.That(_backing.Frees, Is.EqualTo(new[] { (cached, StreamB, false) }));
        DeviceAllocatorStatistics stats = _cache.Statistics;
        Assert.That(stats.BytesReserved, Is.EqualTo(1L << 20));
        Assert.That(stats.BytesCached, Is.Zero);
        Assert.That(_cache.EmptyCache(), Is.Zero, "nothing left to release, and no synchronisation for nothing");
        Assert.That(_synchronized, Has.Count.EqualTo(1));
        _cache.Free(0, kept, 1L << 20, StreamA, usedOnOtherStreams: false);
    }

    [Test]
    public void Peaks_follow_use_and_reset()
    {
        nint a = _cache.Allocate(0, 4096, StreamA);
        nint b = _cache.Allocate(0, 4096, StreamA);
        _cache.Free(0, a, 4096, StreamA, usedOnOtherStreams: false);
        _cache.Free(0, b, 4096, StreamA, usedOnOtherStreams: false);

        DeviceAllocatorStatistics stats = _cache.Statistics;
        Assert.That(stats.PeakBytesInUse, Is.EqualTo(8192));
        Assert.That(stats.BytesInUse, Is.Zero);
        Assert.That(stats.BytesCached, Is.EqualTo(8192));
        _cache.ResetPeaks();
        Assert.That(_cache.Statistics.PeakBytesInUse, Is.Zero);
        Assert.That(_cache.Statistics.PeakBytesReserved, Is.EqualTo(8192));
    }

    [Test]
    public void Freeing_an_unknown_or_already_freed_pointer_does_nothing()
    {
        nint a = _cache.Allocate(0, 4096, StreamA);
        _cache.Free(0, a, 4096, StreamA, usedOnOtherStreams: false);
        _cache.Free(0, a, 4096, StreamA, usedOnOtherStreams: false);
        _cache.Free(0, 0x1234_5600, 4096, StreamA, usedOnOtherStreams: false);

        Assert.That(_cache.Statistics.BytesInUse, Is.Zero);
        Assert.That(_cache.Allocate(0, 4096, StreamA), Is.EqualTo(a));
        Assert.That(_cache.Allocate(0, 4096, StreamA), Is.Not.EqualTo(a), "the double free must not have cached it twice");
    }

    [Test]
    public void A_loop_of_same_sized_allocations_stops_allocating_after_the_first_pass()
    {
        for (int i = 0; i < 1000; i++)
        {
            nint x = _cache.Allocate(0, 24_576, StreamA);
            nint y = _cache.Allocate(0, 3L << 20, StreamA);
            _cache.Free(0, y, 3L << 20, StreamA, usedOnOtherStreams: false);
            _cache.Free(0, x, 24_576, StreamA, usedOnOtherStreams: false);
        }

        Assert.That(_backing.Allocations, Has.Count.EqualTo(2));
        Assert.That(_cache.Statistics.CacheHits, Is.EqualTo(1998));
    }

    [Test]
    public void Concurrent_allocations_and_frees_keep_the_books_balanced()
    {
        Parallel.For(0, 8, worker =>
        {
            nint stream = StreamA + worker;
            var rng = new Random(worker);
            var held = new List<(nint, long)>();
            for (int i = 0; i < 2000; i++)
            {
                if (held.Count > 0 && rng.Next(2) == 0)
                {
                    (nint p, long b) = held[^1];
                    held.RemoveAt(held.Count - 1);
                    _cache.Free(0, p, b, stream, usedOnOtherStreams: rng.Next(10) == 0);
                }
                else
                {
                    long bytes = rng.Next(1, 64) * 1000L;
                    held.Add((_cache.Allocate(0, bytes, stream), bytes));
                }
            }

            foreach ((nint p, long b) in held) _cache.Free(0, p, b, stream, usedOnOtherStreams: false);
        });

        DeviceAllocatorStatistics stats = _cache.Statistics;
        Assert.That(stats.BytesInUse, Is.Zero);
        Assert.That(stats.BytesReserved, Is.EqualTo(_backing.Held));
        Assert.That(stats.BackingAllocations - stats.BackingFrees, Is.EqualTo(_backing.Allocations.Count - _backing.Frees.Count));
        _cache.EmptyCache();
        Assert.That(_backing.Held, Is.Zero);
    }

    [Test]
    public void A_destroyed_stream_gives_back_its_cached_blocks_and_its_handle_starts_afresh([Values] bool throughTheRegistry)
    {
        nint cached = _cache.Allocate(0, 1000, StreamA);
        nint inUse = _cache.Allocate(0, 1000, StreamA);
        nint otherStream = _cache.Allocate(0, 1000, StreamB);
        _cache.Free(0, cached, 1000, StreamA, usedOnOtherStreams: false);
        _cache.Free(0, otherStream, 1000, StreamB, usedOnOtherStreams: false);

        // What the release of an owned CudaStream does before cudaStreamDestroy.
        if (throughTheRegistry) CachingDeviceAllocator.StreamDestroyed(0, StreamA);
        else Assert.That(_cache.RetireStream(0, StreamA), Is.EqualTo(1024));

        Assert.That(_backing.Frees, Is.EqualTo(new[] { (cached, StreamA, true) }),
            "a new stream may get handle StreamA and would not wait for the old stream's work on the block");
        nint onNewStream = _cache.Allocate(0, 1000, StreamA);
        Assert.That(onNewStream, Is.Not.EqualTo(cached));

        _cache.Free(0, inUse, 1000, StreamA, usedOnOtherStreams: false);
        Assert.That(_backing.Frees[^1], Is.EqualTo((inUse, StreamA, true)), "freed after its stream was destroyed: not cached");

        _cache.Free(0, onNewStream, 1000, StreamA, usedOnOtherStreams: false);
        Assert.That(_cache.Allocate(0, 1000, StreamA), Is.EqualTo(onNewStream), "the new stream's own blocks are cached again");
        Assert.That(_cache.Allocate(0, 1000, StreamB), Is.EqualTo(otherStream), "other streams are untouched");
        DeviceAllocatorStatistics stats = _cache.Statistics;
        Assert.That(stats.BytesReserved, Is.EqualTo(_backing.Held));
        Assert.That(stats.BytesInUse, Is.EqualTo(2048));
    }

    [TestCase(1, 512)]
    [TestCase(512, 512)]
    [TestCase(513, 1024)]
    [TestCase(1L << 20, 1L << 20)]
    [TestCase((1L << 20) + 1, 2L << 20)]
    [TestCase((2L << 20) + 1, 4L << 20)]
    public void Sizes_round_up(long bytes, long expected) =>
        Assert.That(CachingDeviceAllocator.RoundUp(bytes), Is.EqualTo(expected));
}
