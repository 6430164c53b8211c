#!/usr/bin/env bash
# FP8 sweep subset on a GPU host: bench/fp8_bench.py --problems on the problems of a few real-model sweep parts, so
# that the FP8 bars of issue 25 are checked on published MoE shapes and not only on the five configurations.
#
#   bash bench/fp8_sweep.sh --out DIR [--bench-exe PATH] [PART ...] [-- FP8_BENCH_ARGS ...]
#
#   PART         part names or indices of `GroupedGemm.Bench sweep list-parts` (bench/sweep/README.md); default the six
#                below. A model split into form parts holds all its problems in each, so one of its parts is enough.
#   --out        DIR/plans/<part, '/' as '__'>/: the part's problems.json and plan.json (GroupedGemm.Bench sweep plan;
#                the same counts as the bf16 sweep); DIR/fp8-sweep.json: fp8_bench.py's rows and summary;
#                DIR/fp8-sweep.log: everything printed
#   --bench-exe  the published GroupedGemm.Bench (default .gpu/GroupedGemm.Bench)
#   -- ARGS      passed to fp8_bench.py after this script's own flags, so they win: -- --max-tokens 65536
#
# Default parts, one whole-model part each, chosen for different shapes: mixtral-8x7b (8 large experts, top-2: the
# standard mixtral-like geometry), deepseek-v2-lite (64 small experts, top-6), qwen3-30b-a3b (128 experts of 768,
# top-8), gpt-oss-20b (K and N 2880: a multiple of 64, not of 128), llama-4-scout (16 experts, top-1: one expert per
# decode token) and granite-3.0-3b-a800m (the smallest, K 1536 or 512).
#
# Problems: routings uniform and zipf; tokens up to 16384 (--max-tokens 16384), that is decode 1, 16 and 256 and
# training 4096 and 16384: 6 parts x 2 projections x 5 token counts x 2 routings = 120 problems. 65536 tokens are left
# out: by the rough model below they double the run for shapes that 16384 tokens already put far above the 2^36 of the
# large-row bars, and a short run leaves room in a ten-minute device call for building the library and other steps.
# 256 tokens stay in because fp8_bench.py filters by a range and decode problems cost little.
# Time (rough, not yet calibrated on a card; calibrate with the first log): fp8_bench.py runs 10 warm-up and 50 timed
# rounds of the four calls per problem; at 650 TFLOP/s for both FP8 grouped calls, 950 for dense FP8 and 550 for our
# bf16, or 2.5 TB/s when memory-bound, plus about 0.3 s per problem for the inputs, quantization and the float64
# check, that is about 1 minute for the 120 problems (with 65536 tokens about 2.2), plus about 30 s for starting
# torch and the six `sweep plan` calls: well under 8 minutes on an H100. Memory: the largest problem (mixtral-8x7b up,
# 16384 tokens) needs about 15 GiB by fp8_bench.py's estimate.
#
# env GROUPEDGEMM_NATIVE_PATH  libgroupedgemm.so (required; ABI 3 or newer for gg_gmm_scaled); PYTHON (default python3)
# Exit status: 0 when every step ran (whatever the figures say), else the first failing step's status.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

exe=.gpu/GroupedGemm.Bench
out=""
parts=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench-exe) exe=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fp8_sweep.sh: unknown argument '$1' (see the comment at the top of bench/fp8_sweep.sh)" >&2; exit 2 ;;
    *) parts+=("$1"); shift ;;
  esac
done
python=${PYTHON:-python3}
[[ -n "$out" ]] || { echo "fp8_sweep.sh: give --out DIR" >&2; exit 2; }
[[ -n "${GROUPEDGEMM_NATIVE_PATH:-}" ]] || { echo "fp8_sweep.sh: set GROUPEDGEMM_NATIVE_PATH to libgroupedgemm.so" >&2; exit 2; }
[[ ${#parts[@]} -gt 0 ]] || parts=(mixtral-8x7b deepseek-v2-lite qwen3-30b-a3b gpt-oss-20b llama-4-scout granite-3.0-3b-a800m)

# Every part is resolved to its name before anything runs (an index as in run_sweep.sh), so a typo costs no time.
all=$("$exe" sweep list-parts --names) || { echo "fp8_sweep.sh: '$exe sweep list-parts --names' failed" >&2; exit 2; }
names=()
for part in "${parts[@]}"; do
  if [[ "$part" =~ ^[0-9]+$ ]]; then name=$(sed -n "$((part + 1))p" <<<"$all"); else name=$(grep -Fx -- "$part" <<<"$all"); fi
  [[ -n "$name" ]] || { echo "fp8_sweep.sh: no part '$part' (bash bench/run_sweep.sh --list-parts)" >&2; exit 2; }
  names+=("$name")
done

mkdir -p "$out"
started=$SECONDS
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }
{
  files=()
  for name in "${names[@]}"; do
    dir="$out/plans/${name//\//__}"
    stamp "plan $name -> $dir"
    "$exe" sweep plan --part "$name" --out "$dir" || exit $?
    files+=("$dir/problems.json")
  done
  stamp "fp8_bench.py on the problems of ${#files[@]} parts ($((SECONDS - started)) s so far)"
  "$python" bench/fp8_bench.py --lib "$GROUPEDGEMM_NATIVE_PATH" --problems "$(IFS=,; echo "${files[*]}")" \
    --routings uniform,zipf --max-tokens 16384 --json "$out/fp8-sweep.json" "${extra[@]}"
  status=$?
  [[ $status -eq 0 ]] || echo "fp8_sweep.sh: fp8_bench.py exited with $status" >&2
  stamp "done in $((SECONDS - started)) s, status $status"
  exit $status
} 2>&1 | tee "$out/fp8-sweep.log"
exit "${PIPESTATUS[0]}"
