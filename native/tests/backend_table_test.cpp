// The backend table and the dispatch derived from it, without a GPU: names, Auto's order, the compiled mask, and
// the texts of "not compiled in", device-rule and "no backend can take this call" messages (which used to be
// written out per backend in dispatch.cpp and are now made from the table).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "core/backend_table.h"
#include "core/dispatch.h"
#include "core/driver_hints.h"
#include "gg_build_config.h"

namespace {

int failures = 0;

std::string text_of(gg_status status) {
    return std::to_string(static_cast<int>(status)) + " " + gg::last_error_message();
}

// A context on a device of compute capability major.minor; no handle (nothing here reaches a backend's run).
gg::Context device_of(int major, int minor) {
    gg::Context ctx;
    ctx.device.ordinal = 0;
    ctx.device.cc_major = major;
    ctx.device.cc_minor = minor;
    return ctx;
}

// Device counts: every backend answers without a CUDA call (the cuBLAS ones refuse them, the gates come first).
gg::GmmProblem device_count_problem() {
    gg::GmmProblem p;
    p.counts_on_device = true;
    p.m = 64;
    p.k = 64;
    p.n = 64;
    p.num_experts = 2;
    return p;
}

}  // namespace

int main() {
    // Names: gg_backend_name's texts, Auto included, null past the enum.
    const char* const names[] = {"auto", "cublas-loop", "cublas-grouped", "cutlass-sm80", "cutlass-sm90"};
    static_assert(sizeof(names) / sizeof(names[0]) == GG_BACKEND_COUNT, "a name per gg_backend");
    for (int b = 0; b < GG_BACKEND_COUNT; ++b) {
        const char* got = gg::backend_name(b);
        CHECK(got != nullptr && std::strcmp(got, names[b]) == 0, "backend %d: name %s, want %s", b, got ? got : "(null)",
              names[b]);
    }
    CHECK(gg::backend_name(GG_BACKEND_COUNT) == nullptr, "no name past the enum");
    CHECK(gg::backend_name(-1) == nullptr, "no name below the enum");

    // An entry is marked compiled in (in_build, which the table's static_asserts read) exactly where it has entry
    // points, and has a reason exactly where it is not.
    for (const gg::BackendEntry& e : gg::backends()) {
        const bool has_entry_points = e.supports != nullptr && e.run != nullptr;
        const bool has_none = e.supports == nullptr && e.run == nullptr;
        CHECK(e.compiled() ? has_entry_points : has_none, "%s: in_build = %d but its entry points say otherwise",
              e.name, e.in_build);
        CHECK(e.compiled() == (e.not_compiled[0] == '\0'), "%s: in_build = %d but not_compiled = \"%s\"", e.name,
              e.in_build, e.not_compiled);
    }

    // Auto's order: sm90, sm80, cuBLAS loop, cuBLAS grouped.
    std::vector<gg_backend> order;
    for (const gg::BackendEntry& e : gg::backends()) order.push_back(e.id);
    const std::vector<gg_backend> want_order = {GG_BACKEND_CUTLASS_SM90, GG_BACKEND_CUTLASS_SM80, GG_BACKEND_CUBLAS_LOOP,
                                                GG_BACKEND_CUBLAS_GROUPED};
    CHECK(order == want_order, "Auto's order changed (%zu entries)", order.size());

    // Compiled mask: Auto and the cuBLAS loop always; the others as this build says.
    const int32_t mask = gg::compiled_backend_mask();
    CHECK((mask & 3) == 3, "auto and cublas-loop are always compiled in: mask 0x%x", static_cast<unsigned>(mask));
#if defined(GG_HAVE_CUTLASS_SM80)
    CHECK(mask & (1 << GG_BACKEND_CUTLASS_SM80), "cutlass-sm80 is compiled in: mask 0x%x", static_cast<unsigned>(mask));
#else
    CHECK(!(mask & (1 << GG_BACKEND_CUTLASS_SM80)), "cutlass-sm80 is out: mask 0x%x", static_cast<unsigned>(mask));
#endif
#if defined(GG_HAVE_CUTLASS_SM90)
    CHECK(mask & (1 << GG_BACKEND_CUTLASS_SM90), "cutlass-sm90 is compiled in: mask 0x%x", static_cast<unsigned>(mask));
#else
    CHECK(!(mask & (1 << GG_BACKEND_CUTLASS_SM90)), "cutlass-sm90 is out: mask 0x%x", static_cast<unsigned>(mask));
#endif

    // "not compiled in" texts, as dispatch.cpp wrote them before the table.
    char want[512];
#if CUBLAS_VERSION < 120500
    std::snprintf(want, sizeof want,
                  "cublas-grouped is not compiled in: cublasGemmGroupedBatchedEx needs CUDA >= 12.5 and this "
                  "library was built with cuBLAS %d.%d (CUDA %s)",
                  CUBLAS_VERSION / 10000, (CUBLAS_VERSION / 100) % 100, GG_BUILD_CUDA_COMPILER_VERSION);
    gg::clear_error();
    CHECK(gg::require_compiled(GG_BACKEND_CUBLAS_GROUPED) == GG_STATUS_BACKEND_NOT_COMPILED &&
              std::strcmp(gg::last_error_message(), want) == 0,
          "cublas-grouped: \"%s\", want \"%s\"", gg::last_error_message(), want);
#endif
#if !defined(GG_HAVE_CUTLASS_SM90)
    std::snprintf(want, sizeof want, "cutlass-sm90 is not compiled in: %s", GG_CUTLASS_SM90_REASON);
    gg::clear_error();
    CHECK(gg::require_compiled(GG_BACKEND_CUTLASS_SM90) == GG_STATUS_BACKEND_NOT_COMPILED &&
              std::strcmp(gg::last_error_message(), want) == 0,
          "cutlass-sm90: \"%s\", want \"%s\"", gg::last_error_message(), want);
#endif
    CHECK(gg::require_compiled(GG_BACKEND_AUTO) == GG_STATUS_SUCCESS, "Auto is always compiled in");
    CHECK(gg::require_compiled(GG_BACKEND_CUBLAS_LOOP) == GG_STATUS_SUCCESS, "cublas-loop is always compiled in");
    gg::clear_error();
    const gg_status bad = gg::require_compiled(static_cast<gg_backend>(7));
    CHECK(bad == GG_STATUS_INVALID_ARGUMENT && std::strcmp(gg::last_error_message(), "backend = 7 is not a backend") == 0,
          "value 7: %s", text_of(bad).c_str());

    // Device rules, with dispatch.cpp's former texts.
    const gg::GmmProblem problem = device_count_problem();
    [[maybe_unused]] gg_status s = GG_STATUS_SUCCESS;  // unread in builds without the CUTLASS backends
#if defined(GG_HAVE_CUTLASS_SM80)
    gg::clear_error();
    s = gg::backend_supports(device_of(7, 5), problem, GG_BACKEND_CUTLASS_SM80);
    CHECK(s == GG_STATUS_NOT_SUPPORTED && std::strcmp(gg::last_error_message(),
                                                      "cutlass-sm80 needs compute capability 8.0 or newer; device 0 is "
                                                      "7.5") == 0,
          "sm80 on 7.5: %s", text_of(s).c_str());
#endif
#if defined(GG_HAVE_CUTLASS_SM90)
    for (const int minor : {0, 9}) {
        gg::clear_error();
        s = gg::backend_supports(device_of(minor == 0 ? 8 : 10, minor), problem, GG_BACKEND_CUTLASS_SM90);
        std::snprintf(want, sizeof want,
                      "cutlass-sm90 runs only on compute capability 9.0 (sm_90a: H100, H200); device 0 is %d.%d",
                      minor == 0 ? 8 : 10, minor);
        CHECK(s == GG_STATUS_NOT_SUPPORTED && std::strcmp(gg::last_error_message(), want) == 0, "sm90: %s",
              text_of(s).c_str());
    }
#endif

    // Auto with nothing that fits (a 7.0 device, device counts): every backend's reason, in Auto's order, and the
    // first status that is not "not compiled" (a device rule or the cuBLAS loop's refusal of device counts).
    gg::clear_error();
    gg_backend chosen = GG_BACKEND_AUTO;
    const gg_status none = gg::select_backend(device_of(7, 0), problem, GG_BACKEND_AUTO, &chosen);
    const std::string message = gg::last_error_message();
    CHECK(none == GG_STATUS_NOT_SUPPORTED, "Auto on 7.0 with device counts: %s", text_of(none).c_str());
    CHECK(message.rfind("no backend can take this call (cutlass-sm90: ", 0) == 0, "Auto's message: %s", message.c_str());
    size_t at = 0;
    for (const char* name : {"cutlass-sm90: ", "; cutlass-sm80: ", "; cublas-loop: ", "; cublas-grouped: "}) {
        const size_t found = message.find(name, at);
        CHECK(found != std::string::npos, "Auto's message names %s after position %zu: %s", name, at, message.c_str());
        at = found == std::string::npos ? at : found;
    }

    if (failures == 0) std::printf("backend table: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
