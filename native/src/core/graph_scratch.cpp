// Graph scratch pool (see graph_scratch.h).
#include "core/graph_scratch.h"

#include <algorithm>
#include <iterator>

namespace gg {

char* GraphScratchPool::take(size_t bytes, size_t* taken) {
    const size_t need = slice_bytes(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return nullptr;
    // First fit by address: the ranges at the low end of the chunks stay in use, so that the high ones merge.
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second < need) continue;
        char* const start = it->first;
        const size_t left = it->second - need;
        free_.erase(it);
        if (left > 0) free_.emplace(start + need, left);
        *taken = need;
        return start;
    }
    return nullptr;
}

void GraphScratchPool::add_chunk(char* base, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    chunks_.push_back(base);
    chunk_bytes_ += bytes;
    free_.emplace(base, bytes);  // chunks are separate allocations: never merged with each other's ranges below
}

void GraphScratchPool::give_back(char* ptr, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || ptr == nullptr || bytes == 0) return;
    auto next = free_.lower_bound(ptr);
    // Merge with the range that ends where this one starts, and with the one that starts where it ends. Two
    // allocations can be adjacent in the address space: merging across them only makes a range that a later slice
    // may span, so ranges are merged only within one chunk (a range never starts at a chunk's base unless it is the
    // chunk's first).
    auto is_chunk_base = [this](char* p) { return std::find(chunks_.begin(), chunks_.end(), p) != chunks_.end(); };
    char* start = ptr;
    size_t size = bytes;
    if (next != free_.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second == ptr && !is_chunk_base(ptr)) {
            start = prev->first;
            size += prev->second;
            free_.erase(prev);
        }
    }
    if (next != free_.end() && ptr + bytes == next->first && !is_chunk_base(next->first)) {
        size += next->second;
        free_.erase(next);
    }
    free_.emplace(start, size);
}

std::vector<char*> GraphScratchPool::close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    free_.clear();
    chunk_bytes_ = 0;
    std::vector<char*> chunks;
    chunks.swap(chunks_);
    return chunks;
}

size_t GraphScratchPool::free_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t total = 0;
    for (const auto& range : free_) total += range.second;
    return total;
}

size_t GraphScratchPool::chunk_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return chunk_bytes_;
}

size_t GraphScratchPool::free_ranges() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return free_.size();
}

}  // namespace gg
