#!/usr/bin/env bash
# The whole benchmark on a GPU host (no .NET SDK needed): the PyTorch baselines, our bench, then the report.
#
#   bash bench/run_gpu.sh [--bench-exe PATH] [--out DIR] [--work DIR] [--font FILE] [--no-verify]
#                         [--configs LIST] [--routings LIST] [--dtype LIST] [--forms LIST]
#                         [--iters N] [--warmup N] [--backends LIST] [--counts LIST]
#
#   --bench-exe  the published GroupedGemm.Bench (default .gpu/GroupedGemm.Bench, from `dotnet cake --target=GpuBundle`)
#   --out        where BENCHMARKS.md, benchmarks-<dtype>.png and benchmarks-results.json go (default artifacts/bench);
#                the results JSON embeds the problem file and both halves' raw timings, so nothing else is kept there
#   --work       folder for the intermediate problems.json, torch.json, ours.json (default: a fresh temporary folder)
#   --font       TrueType font for the plots (default: whatever fc-match or matplotlib provides)
#   the rest     passed to both halves (--backends and --counts to ours only); see bench/README.md
#
# env GROUPEDGEMM_NATIVE_PATH  libgroupedgemm.so to load (scripts/gpu-host.sh sets it): by our bench, and by
#     torch_baseline.py (--ours-lib) to time ours in the same loop as torch._grouped_mm; PYTHON (default python3)
# Exit status: 0 when every step ran (whatever the figures say), else the first failing step's status.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

exe=.gpu/GroupedGemm.Bench
out=artifacts/bench
work=""
font=""
verify=(--verify)
common=()
ours_only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench-exe) exe=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --font) font=$2; shift 2 ;;
    --no-verify) verify=(); shift ;;
    --configs|--routings|--dtype|--forms|--iters|--warmup) common+=("$1" "$2"); shift 2 ;;
    --backends|--counts) ours_only+=("$1" "$2"); shift 2 ;;
    *) echo "run_gpu.sh: unknown argument '$1' (see the comment at the top of bench/run_gpu.sh)" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-python3}
[[ -n "$work" ]] || work=$(mktemp -d -t groupedgemm-bench.XXXXXX)
mkdir -p "$out" "$work"
if [[ -z "$font" ]]; then
  font=$(fc-match -f '%{file}' sans 2>/dev/null || true)
  [[ -f "$font" ]] || font=$("$python" -c 'import matplotlib, os; print(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf/DejaVuSans.ttf"))' 2>/dev/null || true)
  [[ -f "$font" ]] || font=""
fi

status=0
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }
started=$SECONDS

# With the library at hand, the PyTorch half also times ours (gg_gmm through ctypes) in its own loop: the
# same-loop ratio ours / torch._grouped_mm that the torch bar is judged on.
torch_only=()
[[ -n "${GROUPEDGEMM_NATIVE_PATH:-}" ]] && torch_only+=(--ours-lib "$GROUPEDGEMM_NATIVE_PATH")

stamp "PyTorch baselines -> $work/torch.json"
"$python" bench/torch_baseline.py --problems-out "$work/problems.json" --out "$work/torch.json" "${common[@]}" "${torch_only[@]}"
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "run_gpu.sh: torch_baseline.py failed ($rc); going on without the PyTorch figures" >&2
  status=$rc
  rm -f "$work/torch.json"
  # Our half still needs the counts: the problem file needs no torch.
  [[ -f "$work/problems.json" ]] || "$python" bench/torch_baseline.py --problems-out "$work/problems.json" --problems-only "${common[@]}" || exit $?
fi

stamp "GroupedGemm.Bench run -> $work/ours.json ($((SECONDS - started)) s so far)"
"$exe" run --problems "$work/problems.json" --out "$work/ours.json" "${common[@]}" "${ours_only[@]}" "${verify[@]}"
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "run_gpu.sh: GroupedGemm.Bench run exited with $rc" >&2
  [[ $status -ne 0 ]] || status=$rc
fi

stamp "report -> $out ($((SECONDS - started)) s so far)"
inputs=(--problems "$work/problems.json")
[[ -f "$work/torch.json" ]] && inputs+=(--torch "$work/torch.json")
[[ -f "$work/ours.json" ]] && inputs+=(--ours "$work/ours.json")
[[ -n "$font" ]] && inputs+=(--font "$font")
"$exe" report "${inputs[@]}" --out "$out"
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "run_gpu.sh: report failed ($rc); the raw files are copied to $out instead" >&2
  cp "$work"/*.json "$out"/ 2>/dev/null
  [[ $status -ne 0 ]] || status=$rc
fi
stamp "done in $((SECONDS - started)) s, status $status"
exit $status
