// Alignment, residency and overlap checks of device operands (see pointer_checks.h).
#include "core/pointer_checks.h"

#include <cstdint>

namespace gg {
namespace {

// "gg_moe_pad: " or "" when there is no function name to put first.
const char* prefix(const char* function) { return function != nullptr ? function : ""; }
const char* separator(const char* function) { return function != nullptr ? ": " : ""; }

}  // namespace

gg_status check_alignment(const char* function, const void* ptr, const char* name, size_t element_size) {
    if (element_size <= 1) return GG_STATUS_SUCCESS;
    const uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
    if (address % element_size == 0) return GG_STATUS_SUCCESS;
    return fail(GG_STATUS_INVALID_ARGUMENT,
                "%s%s%s (%p) is not aligned to its element size of %zu bytes (address %% %zu = %zu): pass a pointer "
                "to the first byte of an element",
                prefix(function), separator(function), name, ptr, element_size, element_size,
                static_cast<size_t>(address % element_size));
}

gg_status check_device_operand(const char* function, const Operand& op, int device, PointerQuery query) {
    if (op.elements == 0 || op.ptr == nullptr) return GG_STATUS_SUCCESS;
    GG_TRY(check_alignment(function, op.ptr, op.name, op.element_size));
    PointerInfo info;
    GG_TRY(query(op.ptr, op.name, &info));
    if (!info.is_device) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s%s%s (%p) is host memory: this call needs device (or managed) memory on device %d",
                    prefix(function), separator(function), op.name, op.ptr, device);
    }
    if (!info.is_managed && info.device != device) {
        return fail(GG_STATUS_WRONG_DEVICE, "%s%s%s (%p) is on device %d but the call runs on device %d",
                    prefix(function), separator(function), op.name, op.ptr, info.device, device);
    }
    return GG_STATUS_SUCCESS;
}

gg_status check_device_operands(const char* function, std::initializer_list<Operand> ops, int device,
                                PointerQuery query) {
    for (const Operand& op : ops) GG_TRY(check_device_operand(function, op, device, query));
    return GG_STATUS_SUCCESS;
}

gg_status check_no_overlap(const char* function, const Operand& out, const Operand& in) {
    if (out.elements <= 0 || in.elements <= 0 || out.ptr == nullptr || in.ptr == nullptr) return GG_STATUS_SUCCESS;
    const size_t out_bytes = static_cast<size_t>(out.elements) * out.element_size;
    const size_t in_bytes = static_cast<size_t>(in.elements) * in.element_size;
    const uintptr_t o = reinterpret_cast<uintptr_t>(out.ptr), i = reinterpret_cast<uintptr_t>(in.ptr);
    if (o < i + in_bytes && i < o + out_bytes) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s%s%s [%p, +%zu bytes) overlaps %s [%p, +%zu bytes)",
                    prefix(function), separator(function), out.name, out.ptr, out_bytes, in.name, in.ptr, in_bytes);
    }
    return GG_STATUS_SUCCESS;
}

gg_status check_no_overlap(const char* function, const Operand& out, std::initializer_list<Operand> ins) {
    for (const Operand& in : ins) GG_TRY(check_no_overlap(function, out, in));
    return GG_STATUS_SUCCESS;
}

gg_status current_device(int* device) {
    GG_CUDA_CHECK(cudaGetDevice(device));
    return GG_STATUS_SUCCESS;
}

gg_status check_current_device_operands(const char* function, std::initializer_list<Operand> ops) {
    // Alignment first: it needs no driver call, and a misaligned pointer is the likelier mistake.
    for (const Operand& op : ops) {
        if (op.elements != 0 && op.ptr != nullptr) GG_TRY(check_alignment(function, op.ptr, op.name, op.element_size));
    }
    int device = 0;
    GG_TRY(current_device(&device));
    return check_device_operands(function, ops, device, query_pointer_cuda);
}

}  // namespace gg
