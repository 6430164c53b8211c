# gg_sm90_select_kernels (native/cmake/sm90_kernels.cmake) on this tree's own kernel files: which files an
# experiment build (GG_SM90_KERNELS) compiles, and the X-macro list the backend reads. Needs no CUDA.
#   cmake -DGG_NATIVE_DIR=<repo>/native -P sm90_kernel_select_test.cmake
cmake_minimum_required(VERSION 3.20)
include("${GG_NATIVE_DIR}/cmake/sm90_kernels.cmake")
file(GLOB sources "${GG_NATIVE_DIR}/src/cutlass_sm90/*.cu")
file(GLOB kernel_files "${GG_NATIVE_DIR}/src/cutlass_sm90/sm90_*.cu")
list(LENGTH sources n_sources)
list(LENGTH kernel_files n_kernel_files)
set(failures 0)

macro(expect what got want)
  if(NOT "${got}" STREQUAL "${want}")
    message(SEND_ERROR "FAIL ${what}: got '${got}', want '${want}'")
    math(EXPR failures "${failures} + 1")
  endif()
endmacro()

macro(select)
  gg_sm90_select_kernels(SOURCES ${sources} PATTERNS ${ARGN} OUT_SOURCES kept OUT_LIST x_list
    OUT_KEPT n_kept OUT_ALL n_all OUT_ERROR error)
  list(LENGTH kept n_kept_sources)
endmacro()

# No pattern: every file, every kernel listed once.
select()
expect("all: error" "${error}" "")
expect("all: kernels" "${n_kept}" "${n_kernel_files}")
expect("all: kernel count" "${n_all}" "${n_kernel_files}")
expect("all: sources" "${n_kept_sources}" "${n_sources}")
string(REGEX MATCHALL "X\\([^)]*\\)" items "${x_list}")
list(LENGTH items n_items)
expect("all: list entries" "${n_items}" "${n_kernel_files}")
if(n_kernel_files LESS 2)
  message(SEND_ERROR "FAIL: expected the kernel files in ${GG_NATIVE_DIR}/src/cutlass_sm90")
  math(EXPR failures "${failures} + 1")
endif()

# One tile of one form: both epilogues, plus the backend files that are always built.
select("bf16_transa_coop256x128")
expect("one tile: error" "${error}" "")
expect("one tile: kernels" "${n_kept}" "2")
math(EXPR want_sources "${n_sources} - ${n_kernel_files} + 2")
expect("one tile: sources" "${n_kept_sources}" "${want_sources}")
expect("one tile: list" "${x_list}"
  " X(GG_DTYPE_BFLOAT16, kTransA, kCooperative256x128, kSource) X(GG_DTYPE_BFLOAT16, kTransA, kCooperative256x128, kStoreOnly)")
list(FILTER kept INCLUDE REGEX "/backend_sm90\\.cu$")
list(LENGTH kept n_backend)
expect("one tile: backend kept" "${n_backend}" "1")

# Anchored patterns, two of them: exactly those two files.
select("^fp16_forward_coop256x128_store$" "^bf16_transb_pingpong128x128c1x2$")
expect("two files: error" "${error}" "")
expect("two files: list" "${x_list}"
  " X(GG_DTYPE_BFLOAT16, kTransB, kPingpong128x128Cluster1x2, kSource) X(GG_DTYPE_FLOAT16, kForward, kCooperative256x128, kStoreOnly)")

# A pattern that matches nothing is an error, even beside one that matches.
select("bf16_forward_coop256x128" "bf16_forward_nosuchtile")
if(NOT error MATCHES "nosuchtile' matches no kernel file")
  message(SEND_ERROR "FAIL unmatched pattern: error '${error}'")
  math(EXPR failures "${failures} + 1")
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "sm90 kernel selection: ${failures} check(s) failed")
endif()
message(STATUS "sm90 kernel selection: all checks passed (${n_kernel_files} kernel files)")
