#!/usr/bin/env bash
# Front-end check of the cutlass-sm90 sources where the CUDA toolkit cannot build them (older than 12.3, such as
# Debian 12's 11.8): compiles each translation unit for sm_90 with CUTLASS's two toolkit guards forced on, so
# that every kernel configuration's templates (tile and epilogue types, arguments, dispatch) are instantiated
# and type-checked. Nothing is linked and no sm_90a code is generated: the wgmma/TMA bodies compile to empty
# stubs, so this catches compile errors only. Running the kernels needs a Hopper host (scripts/gpu-host.sh).
#
# usage: scripts/check-sm90.sh [FILE.cu ...]   (default: backend_sm90.cu, contiguous_gemm_sm90.cu and every kernel's
#                                               file, written from sm90_tiles.def by native/cmake/sm90_kernels.cmake)
#   env GG_SM90_KERNELS  default file list only: just the kernels whose names these regular expressions match
#   env CUTLASS_DIR   folder holding include/cutlass (default: .deps/cutlass)
#   env CUDACXX       nvcc to use (default: first of /usr/local/cuda/bin/nvcc, PATH)
#   env JOBS          parallel compiles (default: all cores)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cutlass=${CUTLASS_DIR:-$root/.deps/cutlass}
[[ -d "$cutlass/include/cutlass" ]] || { echo "error: no CUTLASS headers in $cutlass (set CUTLASS_DIR)" >&2; exit 2; }
# shellcheck source=scripts/cuda-toolkit.sh
source "$root/scripts/cuda-toolkit.sh"
host_args=()
if [[ -n "$host_compiler" ]]; then host_args+=(-ccbin "$host_compiler"); fi

src=$root/native/src/cutlass_sm90
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  cmake "-DGG_OUT_DIR=$out/kernels" "-DGG_SM90_KERNELS=${GG_SM90_KERNELS:-}" -P "$root/native/cmake/sm90_kernels.cmake" >/dev/null \
    || { echo "error: cannot write the kernel files (native/cmake/sm90_kernels.cmake)" >&2; exit 2; }
  files=("$src/backend_sm90.cu" "$src/contiguous_gemm_sm90.cu" "$out"/kernels/sm90_*.cu)
fi

check() {
  local f=$1 log
  log="$out/$(basename "$f").log"
  if "$nvcc" "${host_args[@]}" -std=c++17 -arch=sm_90 --expt-relaxed-constexpr \
      -DCUTLASS_ARCH_MMA_MODIFIABLE_TMA_SM90_SUPPORTED -DCUTLASS_SM90_COLLECTIVE_BUILDER_SUPPORTED \
      -I"$root/native/src" -I"$root/native/include" -isystem "$cutlass/include" \
      -c "$f" -o "$out/$(basename "$f").o" >"$log" 2>&1; then
    echo "ok    $(basename "$f")"
  else
    echo "FAIL  $(basename "$f")"; grep -m 5 -E "error" "$log" | sed 's/^/      /'
    return 1
  fi
}
pids=()
for f in "${files[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge ${JOBS:-$(nproc)} ]]; do wait -n || true; done
  check "$f" &
  pids+=($!)
done
# Each file's own status: bash keeps it for `wait PID` even after `wait -n` has reaped the job.
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
echo "checked ${#files[@]} file(s): $([[ $failed -eq 0 ]] && echo "no errors" || echo "errors above")"
exit $failed
