#!/usr/bin/env bash
# Builds libgroupedgemm.so with CMake. The Cake Native* targets call this script, and so does
# scripts/gpu-host.sh on GPU hosts that have no .NET SDK: one recipe for both.
#
# usage: scripts/build-native.sh ARCHITECTURES OUTPUT_DIR BUILD_DIR
#   ARCHITECTURES  as nvcc/CMake spell them, ';'-separated: "80;90a", "80", "90a"
#   env CUTLASS_DIR   folder holding include/cutlass (optional: without it the CUTLASS backends are left out)
#   env CUDACXX       nvcc to use (default: first of /usr/local/cuda/bin/nvcc, PATH)
#   env JOBS          parallel compile jobs (default: all cores)
#   env GG_SM90_KERNELS  experiment builds only: regular expressions (comma-separated) naming the cutlass-sm90
#                     kernels to build, e.g. "bf16_transa_coop256x128"; unset: see GG_SM90_TUNING
#   env GG_SM90_TUNING   1: every cutlass-sm90 kernel and the tuning knobs (bench/tune_sm90.py's forced tiles); unset:
#                     the release set, the kernels Auto can choose (marked release in src/cutlass_sm90/sm90_tiles.def)
set -euo pipefail
archs=${1:?architectures, e.g. "80;90a"}
out=${2:?output folder}
build=${3:?build folder}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=scripts/cuda-toolkit.sh
source "$root/scripts/cuda-toolkit.sh"
host_args=()
if [[ -n "$host_compiler" ]]; then host_args+=("-DCMAKE_CUDA_HOST_COMPILER=$host_compiler"); fi

cutlass_args=()
if [[ -n "${CUTLASS_DIR:-}" ]]; then
  if [[ ! -f "$CUTLASS_DIR/include/cutlass/cutlass.h" ]]; then
    echo "error: CUTLASS_DIR=$CUTLASS_DIR has no include/cutlass/cutlass.h" >&2
    exit 2
  fi
  cutlass_args+=("-DCUTLASS_DIR=$(cd "$CUTLASS_DIR" && pwd)")
fi

echo "native build: architectures=$archs nvcc=$nvcc (CUDA $release) CUTLASS=${CUTLASS_DIR:-none} -> $out"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
  "${host_args[@]}" "-DGG_CUDA_ARCHITECTURES=$archs" "-DGG_OUTPUT_DIR=$out" "${cutlass_args[@]}" \
  "-DGG_SM90_KERNELS=${GG_SM90_KERNELS:-}" "-DGG_SM90_TUNING=$([[ "${GG_SM90_TUNING:-0}" == 1 ]] && echo ON || echo OFF)"
cmake --build "$build" -j "${JOBS:-$(nproc)}"
test -f "$out/libgroupedgemm.so" || { echo "error: $out/libgroupedgemm.so was not produced" >&2; exit 1; }
echo "built $out/libgroupedgemm.so"
