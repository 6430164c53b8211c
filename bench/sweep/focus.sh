#!/usr/bin/env bash
# Times the sweep's focus rows (bench/sweep/focus.json: the classes of rows the first H100 sweep found below 0.9x
# torch, and rows that passed as a regression check) with the sweep's own harness, then prints ours / torch per row,
# the first sweep's figure and the kernel Auto chose (bench/sweep/focus.py). About 2-3 minutes on an H100.
#
#   bash bench/sweep/focus.sh --out DIR [--focus FILE] [--bench-exe PATH] [--choice-exe PATH] [--sms N --dram BYTES_PER_S]
#
#   --focus       the rows to time (default bench/sweep/focus.json; bench/sweep/make_focus.py writes one from a later
#                 sweep report)
#   --out         folder for the part folders (run_sweep.sh --part ... --only focus.json --no-verify: plan.json,
#                 problems.json, torch.json, part.log) and focus.txt, the printed table
#   --bench-exe   the published GroupedGemm.Bench (default: run_sweep.sh's, .gpu/GroupedGemm.Bench)
#   --choice-exe  gg_sm90_choice from the native build (default: build/native-gpu/native/tests/gg_sm90_choice, where
#                 scripts/gpu-host.sh native builds; without it the kernel column is empty)
#   --sms, --dram the card for gg_sm90_choice (default an H100 SXM: 132, 3.35e12; an H200: 132, 4.8e12)
# env GROUPEDGEMM_NATIVE_PATH  libgroupedgemm.so (required, as for run_sweep.sh); PYTHON (default python3)
# The float64 check is left to native/tests/gmm_parity.py; the sweep's own parts still run it.
# Exit status: the first failing part's, else focus.py's (1 when a row has no figure).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

out=""
focus=bench/sweep/focus.json
bench=()
choice=build/native-gpu/native/tests/gg_sm90_choice
card=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --focus) focus=$2; shift 2 ;;
    --bench-exe) bench=(--bench-exe "$2"); shift 2 ;;
    --choice-exe) choice=$2; shift 2 ;;
    --sms|--dram) card+=("$1" "$2"); shift 2 ;;
    *) echo "focus.sh: unknown argument '$1' (see the comment at the top of bench/sweep/focus.sh)" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { echo "focus.sh: give --out DIR" >&2; exit 2; }
python=${PYTHON:-python3}
mkdir -p "$out"

status=0
# One run_sweep.sh part per part the focus rows come from; --only keeps the listed groups of its plan.
mapfile -t parts < <("$python" -c 'import json,sys; print("\n".join(dict.fromkeys(r["part"] for r in json.load(open(sys.argv[1]))["rows"])))' "$focus")
for part in "${parts[@]}"; do
  bash bench/run_sweep.sh --part "$part" --out "$out" --only "$focus" --no-verify "${bench[@]}"
  rc=$?; [[ $rc -eq 0 || $status -ne 0 ]] || status=$rc
done

choice_args=()
if [[ -x "$choice" ]]; then
  choice_args=(--choice-exe "$choice")
else
  echo "focus.sh: no gg_sm90_choice at $choice: the kernel column stays empty (--choice-exe PATH)" >&2
fi
"$python" bench/sweep/focus.py --focus "$focus" --dir "$out" "${choice_args[@]}" "${card[@]}" | tee "$out/focus.txt"
rc=${PIPESTATUS[0]}
[[ $status -ne 0 ]] || status=$rc
exit $status
