// Argument validation of gg_gmm: turns a gg_gmm_args into a GmmProblem or names what is wrong.
// The checks that need the driver (where a pointer lives) go through a PointerQuery, so the
// whole sequence can be tested without a GPU.
#pragma once

#include "core/internal.h"

namespace gg {

struct PointerInfo {
    bool is_device = false;   // device memory or managed memory
    bool is_managed = false;  // managed memory: readable from the host and any device
    int device = -1;          // owning device of device memory, -1 for host memory
};

// Fills `info` for `ptr` (non-null); `name` is the argument's name for error messages.
using PointerQuery = gg_status (*)(const void* ptr, const char* name, PointerInfo* info);

// The real query (cudaPointerGetAttributes).
gg_status query_pointer_cuda(const void* ptr, const char* name, PointerInfo* info);

// Checks that an operand with `elements` elements (none: nothing checked) is device or managed memory on
// `handle_device`: host memory is INVALID_ARGUMENT, another device WRONG_DEVICE.
gg_status check_operand(const void* ptr, const char* name, int64_t elements, int handle_device, PointerQuery query);

// Element counts of the three operands of a gmm with the given shape.
struct GmmExtents {
    int64_t a_elements = 0;
    int64_t b_elements = 0;
    int64_t c_elements = 0;
};

// Validates `args` for a handle on `handle_device`, in this order: dtype, counts_location, trans_a with trans_b,
// negative sizes, num_experts, reserved, size overflow, null pointers, batch_sizes (location, alignment, and
// host counts' values, read once into the problem's own copy), a/b/c alignment, a/b/c location and device, c overlapping
// a, b or device batch_sizes, backend. On success fills `out`.
gg_status validate_gmm(const gg_gmm_args& args, int handle_device, PointerQuery query, GmmProblem* out);

// Computes the operand extents, failing on 64-bit overflow of elements or bytes.
gg_status gmm_extents(int64_t m, int64_t k, int64_t n, int64_t num_experts, bool trans_a, size_t element_size,
                      GmmExtents* out);

// batch_sizes of a call (args.batch_sizes, counts_location, num_experts, m): location and alignment, and host counts'
// values, read once into `copy` (null for device counts).
gg_status check_batch_sizes(const gg_gmm_args& args, int handle_device, PointerQuery query,
                            std::shared_ptr<const std::vector<int64_t>>* copy);

// num_experts of gg_gmm and gg_gmm_scaled: in [1, INT32_MAX], the experts gg_handle_reserve and every backend and kernel
// take (a larger count with host batch sizes once reached their copy, a vector beyond its max_size: an internal error).
gg_status check_num_experts(int64_t num_experts);

// INVALID_ARGUMENT (the message starting with `function`, when not NULL) when device batch_sizes (num_experts int64,
// counts_location GG_COUNTS_DEVICE) overlap `c_bytes` of the output c: kernels that write c also read the counts (the
// decode kernels scan them in every block). Host counts are the library's own copy by then and overlap nothing.
gg_status check_counts_apart_from_c(const char* function, const gg_gmm_args& counts, const void* c, size_t c_bytes);

// Text of a dtype for messages ("GG_DTYPE_BFLOAT16"), "unknown" when out of range.
const char* dtype_name(int32_t dtype);

}  // namespace gg
