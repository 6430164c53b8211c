#!/usr/bin/env bash
# Every cutlass-sm90 tile on the sweep's shapes, for Auto's measured tile table (bench/sweep/make_tile_table.py): per
# part, `GroupedGemm.Bench sweep plan` writes the part's problems, then bench/tune_sm90.py --problems times each tile
# (forced through GG_SM90_TILE), Auto, torch._grouped_mm and a dense GEMM in one round-robin loop (decode groups from
# CUDA graphs, slow groups on the sweep's round budget) and checks every tile's output against torch's.
#
#   bash bench/sweep/tile_sweep.sh --out DIR [--bench-exe PATH] [--routings LIST] [--tokens LIST] [--dtype bf16|fp16]
#                                  [--variants LIST] [PART ...]
#     PART        part names or indices (bash bench/run_sweep.sh --list-parts; default: every part)
#     --routings  default zipf: one routing of the four, so that the other three stay out of the table's data and can
#                 check it (a class's tile must then hold on shapes it was not chosen on)
#     --tokens    default every token count of the sweep
#     --dtype     default bf16 (the table has no element type: one dtype's timings decide for both)
#     --variants  default every tile of sm90_tiles.def (bench/tune_sm90.py)
#   DIR/<part>/problems.json, plan.json and DIR/<part>.json (tune_sm90.py's rows, what make_tile_table.py reads)
#
# env GROUPEDGEMM_NATIVE_PATH  a tuning build (GG_SM90_TUNING=1 for scripts/gpu-host.sh native), or an experiment build
#                              holding the tiles to compare (GG_SM90_KERNELS); tune_sm90.py refuses a release build
#     GG_SWEEP_SECONDS         start a part only while this many seconds remain of the run (default: no limit)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
exe=.gpu/GroupedGemm.Bench
out="" routings=zipf tokens="" dtype=bf16 variants="" parts=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --bench-exe) exe=$2; shift 2 ;;
    --routings) routings=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --dtype) dtype=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    -*) echo "tile_sweep.sh: unknown option '$1' (see the comment at the top of bench/sweep/tile_sweep.sh)" >&2; exit 2 ;;
    *) parts+=("$1"); shift ;;
  esac
done
[[ -n "$out" ]] || { echo "tile_sweep.sh: give --out DIR" >&2; exit 2; }
[[ -n "${GROUPEDGEMM_NATIVE_PATH:-}" ]] || { echo "tile_sweep.sh: set GROUPEDGEMM_NATIVE_PATH to a tuning build" >&2; exit 2; }
mapfile -t names < <("$exe" sweep list-parts --names)
[[ ${#parts[@]} -gt 0 ]] || parts=("${names[@]}")
budget=${GG_SWEEP_SECONDS:-0} started=$SECONDS status=0 left=()
mkdir -p "$out"
for part in "${parts[@]}"; do
  name=$part
  [[ "$part" =~ ^[0-9]+$ ]] && name=${names[$part]:-}
  printf '%s\n' "${names[@]}" | grep -Fxq -- "$name" || { echo "tile_sweep.sh: no part '$part'" >&2; status=2; continue; }
  # A part takes up to ~3 minutes with every tile (no estimate of its own): the budget leaves that much.
  if (( budget > 0 && budget - (SECONDS - started) < 180 )); then left+=("$name"); continue; fi
  dir="$out/${name//\//__}"
  mkdir -p "$dir"
  "$exe" sweep plan --part "$name" --out "$dir" > "$dir/plan.log" 2>&1 || { status=1; continue; }
  # The part's own forms and element types (a model split by form has the same problems in each of its parts).
  read -r forms dtypes < <(python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))
print(",".join(p["forms"]), ",".join(p["dtypes"]))' "$dir/plan.json")
  [[ ",$dtypes," == *",$dtype,"* ]] || { echo "tile_sweep: $name has no $dtype groups"; continue; }
  extra=()
  [[ -n "$tokens" ]] && extra+=(--tokens "$tokens")
  [[ -n "$variants" ]] && extra+=(--variants "$variants")
  python3 bench/tune_sm90.py --lib "$GROUPEDGEMM_NATIVE_PATH" --problems "$dir/problems.json" --routings "$routings" \
    --dtype "$dtype" --forms "$forms" "${extra[@]}" --out "$out/${name//\//__}.json" > "$dir/tune.log" 2>&1 || status=1
  echo "tile_sweep: $name done at $((SECONDS - started)) s (exit so far $status)"
done
[[ ${#left[@]} -eq 0 ]] || echo "tile_sweep: not started (time): ${left[*]}"
exit $status
