// Graph scratch: the device memory that calls made while their stream is captured take their scratch from (a slice
// each, which their graph uses on every replay), and the reuse of a slice once no graph can replay it any more.
// No CUDA headers: native/tests/graph_scratch_test.cpp checks the pool on the host. core/workspace.cpp allocates its
// chunks; core/capture.cpp hands a slice back when the last graph (template or executable) that captured it is gone
// (a CUDA user object's destructor, on a thread of CUDA's own).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

namespace gg {

// The free ranges of a handle's graph chunks. Thread-safe: give_back comes from CUDA's destructor thread while a call
// may be taking a slice. Shared (std::shared_ptr) between the handle and every slice handed to a graph, so that a graph
// destroyed after its handle hands back to a closed pool, not to freed memory.
class GraphScratchPool {
public:
    // Every range starts on this boundary (core/aligned_layout.h: what the layouts carved inside a slice assume).
    explicit GraphScratchPool(size_t align) : align_(align) {}

    // A free range of at least `bytes` (rounded up to the alignment), the lowest that fits, or nullptr (then the caller
    // adds a chunk and asks again). *taken = the bytes the slice holds, for give_back.
    char* take(size_t bytes, size_t* taken);

    // What take(bytes) holds: at least one byte, rounded up to the alignment (so that a caller sizing a new chunk for
    // `bytes` asks for what take will need of it).
    size_t slice_bytes(size_t bytes) const { return (std::max<size_t>(bytes, 1) + align_ - 1) / align_ * align_; }

    // A new chunk, all of it free (base aligned by the allocator; cudaMalloc's 256 bytes cover the alignment).
    void add_chunk(char* base, size_t bytes);

    // A slice taken before, free again; merged with the free ranges next to it. Ignored once closed.
    void give_back(char* ptr, size_t bytes);

    // The chunks are being freed (the handle is destroyed): nothing is taken or handed back from now on.
    // Returns the chunks, for the caller to free.
    std::vector<char*> close();

    size_t free_bytes() const;
    size_t chunk_bytes() const;
    size_t free_ranges() const;

private:
    const size_t align_;
    mutable std::mutex mutex_;
    bool closed_ = false;
    std::map<char*, size_t> free_;  // start -> bytes, no two adjacent (merged)
    std::vector<char*> chunks_;
    size_t chunk_bytes_ = 0;
};

}  // namespace gg
