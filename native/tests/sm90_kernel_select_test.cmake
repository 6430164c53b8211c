# native/cmake/sm90_kernels.cmake on this tree's own table (src/cutlass_sm90/sm90_tiles.def): the kernels it lists,
# the release set, which kernels an experiment build (GG_SM90_KERNELS) keeps, the X-macro list the backend reads and
# the kernel files written into the build folder. Needs no CUDA.
#   cmake -DGG_NATIVE_DIR=<repo>/native -DGG_WORK_DIR=<scratch folder> -P sm90_kernel_select_test.cmake
cmake_minimum_required(VERSION 3.20)
include("${GG_NATIVE_DIR}/cmake/sm90_kernels.cmake")
set(table "${GG_NATIVE_DIR}/src/cutlass_sm90/sm90_tiles.def")
file(STRINGS "${table}" tile_lines REGEX "^GG_SM90_TILE\\(")
list(LENGTH tile_lines n_tiles)
file(STRINGS "${table}" split_lines REGEX "^GG_SM90_SPLIT_TILE\\(")
list(LENGTH split_lines n_split_tiles)
# 2 dtypes x 3 operand forms x 2 epilogues a tile, and split-K's 2 dtypes x 3 operand forms of fp32 partials
math(EXPR n_kernels "${n_tiles} * 12 + ${n_split_tiles} * 6")
set(failures 0)

macro(expect what got want)
  if(NOT "${got}" STREQUAL "${want}")
    message(SEND_ERROR "FAIL ${what}: got '${got}', want '${want}'")
    math(EXPR failures "${failures} + 1")
  endif()
endmacro()

gg_sm90_kernel_table(DEF "${table}" OUT_NAMES names OUT_ARGS args OUT_RELEASE release OUT_ERROR error)
expect("table: error" "${error}" "")
list(LENGTH names n_names)
list(LENGTH args n_args)
list(LENGTH release n_release)
expect("table: kernels" "${n_names}" "${n_kernels}")
expect("table: arguments" "${n_args}" "${n_kernels}")
if(n_tiles LESS 2 OR n_release LESS 2 OR NOT n_release LESS n_names)
  message(SEND_ERROR "FAIL table: ${n_tiles} tiles, ${n_release} release kernels of ${n_names}")
  math(EXPR failures "${failures} + 1")
endif()
foreach(name IN LISTS release)
  if(NOT name IN_LIST names)
    message(SEND_ERROR "FAIL table: release kernel ${name} is not a kernel")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
list(FIND names "bf16_transa_coop256x128_store" index)
list(GET args ${index} item)
expect("table: arguments of a name" "${item}" "GG_DTYPE_BFLOAT16|kTransA|kCooperative256x128|kStoreOnly")
list(FIND names "fp16_transb_pingpong128x128c1x2" index)
list(GET args ${index} item)
expect("table: arguments of another" "${item}" "GG_DTYPE_FLOAT16|kTransB|kPingpong128x128Cluster1x2|kSource")
# Split-K's partial kernels: a name and arguments of their own, always release.
list(FIND names "fp16_transa_coop128x256c1x1_partial" index)
list(GET args ${index} item)
expect("table: a split-K partial kernel" "${item}" "GG_DTYPE_FLOAT16|kTransA|kCooperative128x256Cluster1x1|kPartialF32")
set(partial_release "${release}")
list(FILTER partial_release INCLUDE REGEX "_partial$")
# Every split line's tile: both dtypes, the three operand forms (the names read from the table's own lines).
set(partial_want "")
foreach(line IN LISTS split_lines)
  string(REGEX REPLACE "^GG_SM90_SPLIT_TILE\\([A-Za-z0-9_]+, *([a-z0-9]+)\\).*$" "\\1" split_tile "${line}")
  foreach(dtype bf16 fp16)
    foreach(form forward transa transb)
      list(APPEND partial_want "${dtype}_${form}_${split_tile}_partial")
    endforeach()
  endforeach()
endforeach()
list(SORT partial_want)
expect("table: split-K partial kernels released" "${partial_release}" "${partial_want}")
list(FIND partial_release "bf16_forward_coop128x256c1x1_partial" index)
if(index LESS 0)
  message(SEND_ERROR "FAIL table: the weight gradients' split tile has no partial kernels")
  math(EXPR failures "${failures} + 1")
endif()
# A split line must name a tile of the table.
set(bad_split "${GG_WORK_DIR}/bad_split.def")
file(WRITE "${bad_split}" "GG_SM90_TILE(kX, x1, both, both, both)\nGG_SM90_SPLIT_TILE(kY, y1)\n")
gg_sm90_kernel_table(DEF "${bad_split}" OUT_NAMES unused OUT_ARGS unused OUT_RELEASE unused OUT_ERROR error)
if(NOT error MATCHES "GG_SM90_SPLIT_TILE\\(kY, y1\\) names no GG_SM90_TILE")
  message(SEND_ERROR "FAIL bad split tile: error '${error}'")
  math(EXPR failures "${failures} + 1")
endif()

# The release marks of one tile (sm90_tiles.def: pingpong128x128 is both, both, source).
set(pingpong_release "${release}")
list(FILTER pingpong_release INCLUDE REGEX "_pingpong128x128(_store)?$")
expect("table: pingpong128x128 release kernels" "${pingpong_release}"
  "bf16_forward_pingpong128x128;bf16_forward_pingpong128x128_store;bf16_transa_pingpong128x128;bf16_transb_pingpong128x128;bf16_transb_pingpong128x128_store;fp16_forward_pingpong128x128;fp16_forward_pingpong128x128_store;fp16_transa_pingpong128x128;fp16_transb_pingpong128x128;fp16_transb_pingpong128x128_store")

# A malformed row is an error that names it.
set(bad "${GG_WORK_DIR}/bad_tiles.def")
file(WRITE "${bad}" "GG_SM90_TILE(kX, x1, both, sometimes, both)\n")
gg_sm90_kernel_table(DEF "${bad}" OUT_NAMES unused OUT_ARGS unused OUT_RELEASE unused OUT_ERROR error)
if(NOT error MATCHES "'sometimes' is not both, source, store or tuning")
  message(SEND_ERROR "FAIL bad mark: error '${error}'")
  math(EXPR failures "${failures} + 1")
endif()

# No pattern: every kernel.
gg_sm90_select_kernels(NAMES ${names} OUT_KEPT kept OUT_ERROR error)
expect("all: error" "${error}" "")
expect("all: kept" "${kept}" "${names}")

# One tile of one form: both epilogues.
gg_sm90_select_kernels(NAMES ${names} PATTERNS "bf16_transa_coop256x128" OUT_KEPT kept OUT_ERROR error)
expect("one tile: error" "${error}" "")
expect("one tile: kept" "${kept}" "bf16_transa_coop256x128;bf16_transa_coop256x128_store")
gg_sm90_kernels_of(KEEP ${kept} NAMES ${names} ARGS ${args} OUT_LIST x_list)
expect("one tile: list" "${x_list}"
  " X(GG_DTYPE_BFLOAT16, kTransA, kCooperative256x128, kSource) X(GG_DTYPE_BFLOAT16, kTransA, kCooperative256x128, kStoreOnly)")

# Anchored patterns, two of them: exactly those two kernels, in name order.
gg_sm90_select_kernels(NAMES ${names} PATTERNS "^fp16_forward_coop256x128_store$" "^bf16_transb_pingpong128x128c1x2$"
  OUT_KEPT kept OUT_ERROR error)
expect("two kernels: error" "${error}" "")
gg_sm90_kernels_of(KEEP ${kept} NAMES ${names} ARGS ${args} OUT_LIST x_list)
expect("two kernels: list" "${x_list}"
  " X(GG_DTYPE_BFLOAT16, kTransB, kPingpong128x128Cluster1x2, kSource) X(GG_DTYPE_FLOAT16, kForward, kCooperative256x128, kStoreOnly)")

# The scripts' and docs' example: one tile of every form and epilogue in bf16 (with split-K's partial kernel, on that
# tile).
gg_sm90_select_kernels(NAMES ${names} PATTERNS "bf16_.*_coop128x256c1x1" OUT_KEPT kept OUT_ERROR error)
list(LENGTH kept n_kept)
expect("bf16_.*_coop128x256c1x1: kept" "${n_kept}" "9")

# A pattern that matches nothing is an error, even beside one that matches.
gg_sm90_select_kernels(NAMES ${names} PATTERNS "bf16_forward_coop256x128" "bf16_forward_nosuchtile" OUT_KEPT kept
  OUT_ERROR error)
if(NOT error MATCHES "nosuchtile' matches no kernel")
  message(SEND_ERROR "FAIL unmatched pattern: error '${error}'")
  math(EXPR failures "${failures} + 1")
endif()

# The kernel files: one GG_SM90_INSTANTIATE line each, and a file no longer kept is removed.
set(dir "${GG_WORK_DIR}/kernels")
file(REMOVE_RECURSE "${dir}")
gg_sm90_kernels_of(KEEP bf16_transa_coop256x128 fp16_forward_pingpong128x128_store NAMES ${names} ARGS ${args}
  OUT_LIST x_list DIR "${dir}" OUT_SOURCES sources)
expect("files: written" "${sources}"
  "${dir}/sm90_bf16_transa_coop256x128.cu;${dir}/sm90_fp16_forward_pingpong128x128_store.cu")
file(STRINGS "${dir}/sm90_fp16_forward_pingpong128x128_store.cu" lines REGEX "^GG_SM90_INSTANTIATE\\(")
expect("files: instantiation" "${lines}"
  "GG_SM90_INSTANTIATE(GG_DTYPE_FLOAT16, kForward, kPingpong128x128, kStoreOnly)")
file(STRINGS "${dir}/sm90_fp16_forward_pingpong128x128_store.cu" lines REGEX "^#include")
expect("files: include" "${lines}" "#include \"cutlass_sm90/grouped_gemm_sm90.cuh\"")
gg_sm90_kernels_of(KEEP bf16_transa_coop256x128 NAMES ${names} ARGS ${args} OUT_LIST x_list DIR "${dir}"
  OUT_SOURCES sources)
file(GLOB left "${dir}/*.cu")
expect("files: stale one removed" "${left}" "${dir}/sm90_bf16_transa_coop256x128.cu")

if(failures GREATER 0)
  message(FATAL_ERROR "sm90 kernel table: ${failures} check(s) failed")
endif()
message(STATUS "sm90 kernel table: all checks passed (${n_tiles} CUTLASS tiles, ${n_names} kernels, ${n_release} release)")
