#!/usr/bin/env bash
# Runs the GPU part of the project on a GPU host that has the CUDA driver and toolkit but no .NET SDK.
# Expects, beside the repository's sources: .gpu/ (from `dotnet cake --target=GpuBundle`, or .gpu.tar.xz)
# and CUTLASS headers (CUTLASS_DIR, or .deps/cutlass, or .deps/cutlass.tar.xz).
#
# usage: scripts/gpu-host.sh native|test|moe|bench|all [extra args for the step]
#   env OUT        folder for logs and results (default: artifacts/gpu)
#   env GG_ARCHS   architectures of the native build (default: 90a on Hopper, else 80)
#   env GG_SM90_KERNELS  native step, experiments only: build just these cutlass-sm90 kernels (scripts/build-native.sh)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${OUT:-$root/artifacts/gpu}
mkdir -p "$out"

[[ -d .gpu || ! -f .gpu.tar.xz ]] || tar xJf .gpu.tar.xz
if [[ -z "${CUTLASS_DIR:-}" ]]; then
  [[ -d .deps/cutlass || ! -f .deps/cutlass.tar.xz ]] || tar -C .deps -xJf .deps/cutlass.tar.xz
  [[ -d .deps/cutlass ]] && export CUTLASS_DIR=$root/.deps/cutlass
fi
export GROUPEDGEMM_NATIVE_PATH=$root/artifacts/native/libgroupedgemm.so

default_archs() {
  local cc
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1)
  case "$cc" in 9.*) echo "90a" ;; *) echo "80" ;; esac
}

step_native() {
  local archs=${GG_ARCHS:-$(default_archs)}
  bash scripts/build-native.sh "$archs" "$root/artifacts/native" "$root/build/native-gpu" 2>&1 | tee "$out/native-build.log"
  return "${PIPESTATUS[0]}"
}

step_test() {
  # Microsoft.Testing.Platform executable: NUnit filter and TRX report through its options.
  .gpu/GroupedGemm.Net.Tests --results-directory "$out" --report-trx --report-trx-filename gpu-tests.trx "$@" 2>&1 | tee "$out/tests.log"
  return "${PIPESTATUS[0]}"
}

step_moe() {
  local rc=0
  for gated in "" "--gated"; do
    for routing in uniform zipf; do
      echo "== MoE sample $gated --routing $routing" | tee -a "$out/moe.log"
      .gpu/GroupedGemm.MoE $gated --routing "$routing" "$@" 2>&1 | tee -a "$out/moe.log" || rc=1
    done
  done
  return $rc
}

step_bench() {
  bash bench/run_gpu.sh --bench-exe .gpu/GroupedGemm.Bench --out "$out" "$@" 2>&1 | tee "$out/bench.log"
  return "${PIPESTATUS[0]}"
}

step=${1:-all}; shift || true
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader | tee "$out/card.txt"
case "$step" in
  native) step_native ;;
  test)   step_test "$@" ;;
  moe)    step_moe "$@" ;;
  bench)  step_bench "$@" ;;
  all)    step_native && { step_test; t=$?; step_moe; m=$?; step_bench; b=$?; exit $(( t || m || b )); } ;;
  *) echo "usage: $0 native|test|moe|bench|all" >&2; exit 2 ;;
esac
