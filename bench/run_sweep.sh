#!/usr/bin/env bash
# One part of the real-model sweep on a GPU host (no .NET SDK needed), or the list of parts, or the report.
#
#   bash bench/run_sweep.sh --list-parts [--bench-exe PATH]
#   bash bench/run_sweep.sh --part NAME|INDEX --out DIR [--bench-exe PATH] [--no-verify] [--only FOCUS_JSON]
#   bash bench/run_sweep.sh --report --out DIR --in DIR [--in DIR ...] [--font FILE]
#
#   --part       a part name or index from --list-parts; its files go to DIR/<part name, '/' as '__'>/:
#                plan.json, problems.json (GroupedGemm.Bench sweep plan), torch.json (bench/sweep/sweep_part.py: ours,
#                torch._grouped_mm and dense in one loop, plus the copy bandwidth), verify.json (GroupedGemm.Bench sweep
#                verify: the float64 sample), part.log
#   --report     merges every part folder under the --in folders into DIR/sweep.md, sweep-results.json and
#                sweep-distribution.png (no GPU needed)
#   --bench-exe  the published GroupedGemm.Bench (default .gpu/GroupedGemm.Bench)
#   --only       time only the part's groups a focus file lists (bench/sweep/focus.json; bench/sweep/focus.sh)
#
# env GROUPEDGEMM_NATIVE_PATH  libgroupedgemm.so (required for a part: ours is timed in PyTorch's loop through it);
#     PYTHON (default python3)
# Exit status: 0 when every step ran (whatever the figures say), else the first failing step's status.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

exe=.gpu/GroupedGemm.Bench
out=""
part=""
mode=part
verify=1
font=""
inputs=()
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench-exe) exe=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    --list-parts) mode=list; shift ;;
    --report) mode=report; shift ;;
    --in) inputs+=(--in "$2"); shift 2 ;;
    --font) font=$2; shift 2 ;;
    --no-verify) verify=0; shift ;;
    --only) only=(--only "$2"); shift 2 ;;
    *) echo "run_sweep.sh: unknown argument '$1' (see the comment at the top of bench/run_sweep.sh)" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-python3}

case "$mode" in
  list) exec "$exe" sweep list-parts ;;
  report)
    [[ -n "$out" && ${#inputs[@]} -gt 0 ]] || { echo "run_sweep.sh --report needs --out DIR and --in DIR" >&2; exit 2; }
    extra=()
    [[ -n "$font" ]] && extra+=(--font "$font")
    exec "$exe" sweep report "${inputs[@]}" --out "$out" "${extra[@]}" ;;
esac

[[ -n "$part" && -n "$out" ]] || { echo "run_sweep.sh: give --part NAME|INDEX and --out DIR (or --list-parts)" >&2; exit 2; }
[[ -n "${GROUPEDGEMM_NATIVE_PATH:-}" ]] || { echo "run_sweep.sh: set GROUPEDGEMM_NATIVE_PATH to libgroupedgemm.so" >&2; exit 2; }
# The folder is named after the part (an index resolves to its name), so parts never overwrite each other.
name=$("$exe" sweep list-parts --names | { if [[ "$part" =~ ^[0-9]+$ ]]; then sed -n "$((part + 1))p"; else grep -Fx -- "$part"; fi; })
[[ -n "$name" ]] || { echo "run_sweep.sh: no part '$part' (bash bench/run_sweep.sh --list-parts)" >&2; exit 2; }
dir="$out/${name//\//__}"
mkdir -p "$dir"
started=$SECONDS
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }
status=0
{
  stamp "plan $name -> $dir"
  "$exe" sweep plan --part "$name" --out "$dir" || exit $?
  stamp "timing (ours, torch._grouped_mm, dense in one loop)"
  "$python" bench/sweep/sweep_part.py --dir "$dir" --ours-lib "$GROUPEDGEMM_NATIVE_PATH" "${only[@]}"
  rc=$?; [[ $rc -eq 0 ]] || { echo "run_sweep.sh: sweep_part.py exited with $rc" >&2; status=$rc; }
  if [[ $verify -eq 1 ]]; then
    stamp "float64 sample ($((SECONDS - started)) s so far)"
    "$exe" sweep verify --dir "$dir"
    rc=$?; [[ $rc -eq 0 ]] || { echo "run_sweep.sh: sweep verify exited with $rc" >&2; [[ $status -ne 0 ]] || status=$rc; }
  fi
  stamp "part $name done in $((SECONDS - started)) s, status $status"
  exit $status
} 2>&1 | tee "$dir/part.log"
exit "${PIPESTATUS[0]}"
