// The graph scratch pool (core/graph_scratch.h) without a GPU: slices taken from chunks (fake addresses, never
// dereferenced) never overlap one another while taken, a slice handed back is taken again before any new chunk is
// needed, handing everything back leaves one free range per chunk (ranges merged within a chunk, never across two
// chunks that happen to be adjacent), a closed pool takes and accepts nothing, and give_back from other threads while
// one thread takes keeps the same accounting. The CUDA side (a graph's user object handing its slice back) runs on a
// GPU host: GraphScratchReuseTests in the .NET suite.
#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/graph_scratch.h"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
    if (!ok) {
        std::printf("FAIL %s\n", what);
        ++failures;
    }
}

constexpr size_t kAlign = 256;
constexpr size_t kChunk = size_t(4) << 20;

// Chunks at fake addresses: two adjacent ones (the case a merge across allocations would get wrong), one apart.
std::vector<char*> fake_chunks() {
    char* const base = reinterpret_cast<char*>(uintptr_t(1) << 40);
    return {base, base + kChunk, base + 4 * kChunk};
}

struct Taken {
    char* ptr;
    size_t bytes;
};

bool overlaps(const std::vector<Taken>& taken) {
    std::vector<Taken> sorted = taken;
    std::sort(sorted.begin(), sorted.end(), [](const Taken& a, const Taken& b) { return a.ptr < b.ptr; });
    for (size_t i = 1; i < sorted.size(); ++i) {
        if (sorted[i - 1].ptr + sorted[i - 1].bytes > sorted[i].ptr) return true;
    }
    return false;
}

// slice_bytes is what take holds (workspace.cpp sizes a new chunk with it): a chunk of exactly slice_bytes(b) gives a
// slice of b, and zero bytes still take one aligned block.
void slice_bytes_is_what_take_holds() {
    for (size_t bytes : {size_t(0), size_t(1), kAlign - 1, kAlign, kAlign + 1, size_t(10'200'000)}) {
        gg::GraphScratchPool pool(kAlign);
        const size_t need = pool.slice_bytes(bytes);
        expect(need >= std::max<size_t>(bytes, 1) && need % kAlign == 0 && need - std::max<size_t>(bytes, 1) < kAlign,
               "slice_bytes: the bytes (at least one) rounded up to the alignment");
        pool.add_chunk(fake_chunks()[0], need);
        size_t taken = 0;
        expect(pool.take(bytes, &taken) != nullptr && taken == need, "a chunk of slice_bytes(b) holds a slice of b");
    }
}

void reuse_before_growth() {
    gg::GraphScratchPool pool(kAlign);
    size_t taken = 0;
    expect(pool.take(100, &taken) == nullptr, "an empty pool has no slice");
    const std::vector<char*> chunks = fake_chunks();
    pool.add_chunk(chunks[0], kChunk);
    char* a = pool.take(100, &taken);
    expect(a == chunks[0] && taken == kAlign, "the first slice is the chunk's start, rounded to the alignment");
    char* b = pool.take(kChunk / 2, &taken);
    expect(b == chunks[0] + kAlign, "the second slice follows the first");
    expect(pool.take(kChunk, &taken) == nullptr, "no slice larger than what is left");
    pool.give_back(a, kAlign);
    char* c = pool.take(200, &taken);
    expect(c == a, "a slice handed back is taken again, lowest address first");
    pool.give_back(b, kChunk / 2);
    pool.give_back(c, kAlign);
    expect(pool.free_ranges() == 1 && pool.free_bytes() == kChunk, "everything handed back is one range again");
    char* whole = pool.take(kChunk, &taken);
    expect(whole == chunks[0] && taken == kChunk, "the merged range holds the whole chunk");
}

void no_merge_across_chunks() {
    gg::GraphScratchPool pool(kAlign);
    const std::vector<char*> chunks = fake_chunks();
    pool.add_chunk(chunks[0], kChunk);
    pool.add_chunk(chunks[1], kChunk);  // adjacent to the first in the address space
    size_t taken = 0;
    char* a = pool.take(kChunk, &taken);
    char* b = pool.take(kChunk, &taken);
    expect(a != nullptr && b != nullptr && a != b, "two whole chunks");
    pool.give_back(a, kChunk);
    pool.give_back(b, kChunk);
    expect(pool.free_ranges() == 2, "two adjacent chunks stay two ranges");
    expect(pool.take(kChunk + kAlign, &taken) == nullptr, "no slice spans two allocations");
}

void random_use() {
    std::mt19937_64 random(20261207);
    gg::GraphScratchPool pool(kAlign);
    const std::vector<char*> chunks = fake_chunks();
    size_t added = 0;
    std::vector<Taken> live;
    for (int step = 0; step < 20000; ++step) {
        if (!live.empty() && random() % 2 == 0) {
            const size_t i = random() % live.size();
            pool.give_back(live[i].ptr, live[i].bytes);
            live.erase(live.begin() + static_cast<long>(i));
            continue;
        }
        const size_t bytes = 1 + random() % (kChunk / 8);
        size_t taken = 0;
        char* slice = pool.take(bytes, &taken);
        if (slice == nullptr && added < chunks.size()) {
            pool.add_chunk(chunks[added++], kChunk);
            slice = pool.take(bytes, &taken);
        }
        if (slice == nullptr) continue;  // full: a real pool adds a chunk
        expect(taken >= bytes && taken % kAlign == 0 && reinterpret_cast<uintptr_t>(slice) % kAlign == 0,
               "a slice holds the bytes asked for, aligned");
        live.push_back({slice, taken});
    }
    expect(!overlaps(live), "slices taken at once never overlap");
    for (const Taken& t : live) pool.give_back(t.ptr, t.bytes);
    expect(pool.free_bytes() == pool.chunk_bytes() && pool.free_ranges() == added,
           "after random use, everything handed back is one range per chunk");
}

void concurrent_give_back() {
    gg::GraphScratchPool pool(kAlign);
    const std::vector<char*> chunks = fake_chunks();
    pool.add_chunk(chunks[0], kChunk);
    std::vector<Taken> first;
    size_t taken = 0;
    for (int i = 0; i < 64; ++i) first.push_back({pool.take(4096, &taken), taken});
    // CUDA's destructor thread hands these back while this thread takes and returns others.
    std::thread releaser([&] {
        for (const Taken& t : first) pool.give_back(t.ptr, t.bytes);
    });
    std::vector<Taken> mine;
    for (int i = 0; i < 2000; ++i) {
        char* p = pool.take(1024, &taken);
        if (p != nullptr) mine.push_back({p, taken});
        if (mine.size() > 16) {
            pool.give_back(mine.front().ptr, mine.front().bytes);
            mine.erase(mine.begin());
        }
    }
    releaser.join();
    expect(!overlaps(mine), "slices taken while another thread hands back never overlap");
    for (const Taken& t : mine) pool.give_back(t.ptr, t.bytes);
    expect(pool.free_ranges() == 1 && pool.free_bytes() == kChunk, "after both threads, one range again");
}

void closed_pool() {
    gg::GraphScratchPool pool(kAlign);
    const std::vector<char*> chunks = fake_chunks();
    pool.add_chunk(chunks[0], kChunk);
    size_t taken = 0;
    char* a = pool.take(1000, &taken);
    const std::vector<char*> freed = pool.close();
    expect(freed.size() == 1 && freed[0] == chunks[0], "close returns the chunks to free");
    pool.give_back(a, taken);  // a graph destroyed after its handle
    expect(pool.take(10, &taken) == nullptr && pool.free_bytes() == 0, "a closed pool takes and accepts nothing");
    pool.add_chunk(chunks[1], kChunk);
    expect(pool.chunk_bytes() == 0, "a closed pool adds no chunk");
}

}  // namespace

int main() {
    slice_bytes_is_what_take_holds();
    reuse_before_growth();
    no_merge_across_chunks();
    random_use();
    concurrent_give_back();
    closed_pool();
    if (failures == 0) std::printf("graph scratch pool: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
