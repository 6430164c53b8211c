// Checks every entry point runs on its device operands before anything is launched: alignment to the element
// size (a misaligned 2- or 4-byte load is a sticky fault that kills the process's CUDA context), residency (device
// or managed memory on the device the call runs on) and overlap of an output with an input. Host-only, with the
// pointer query passed in, so that native/tests checks them without a GPU.
#pragma once

#include <initializer_list>

#include "core/validate.h"

namespace gg {

// One operand: `elements` elements of `element_size` bytes at `ptr`. Operands with no elements (or a null pointer
// whose emptiness the caller has already checked) are not checked.
struct Operand {
    const void* ptr = nullptr;
    const char* name = "";
    size_t element_size = 1;
    int64_t elements = 0;
};

// INVALID_ARGUMENT when `ptr` is not a multiple of `element_size`; the message names `function` (may be NULL),
// the argument and the address.
gg_status check_alignment(const char* function, const void* ptr, const char* name, size_t element_size);

// Alignment, then residency: device or managed memory; device memory must be on `device` (WRONG_DEVICE otherwise),
// host memory is INVALID_ARGUMENT.
gg_status check_device_operand(const char* function, const Operand& op, int device, PointerQuery query);

// check_device_operand on each, in order.
gg_status check_device_operands(const char* function, std::initializer_list<Operand> ops, int device,
                                PointerQuery query);

// INVALID_ARGUMENT when the bytes of `out` overlap those of `in` (empty operands never overlap).
gg_status check_no_overlap(const char* function, const Operand& out, const Operand& in);

// check_no_overlap of `out` with each of `ins`, in order: the first overlap is the one reported.
gg_status check_no_overlap(const char* function, const Operand& out, std::initializer_list<Operand> ins);

// The device current on the calling thread (MoE kernels and gg_convert run there).
gg_status current_device(int* device);

// check_device_operands against the current device with the real pointer query (the MoE entry points).
gg_status check_current_device_operands(const char* function, std::initializer_list<Operand> ops);

}  // namespace gg
