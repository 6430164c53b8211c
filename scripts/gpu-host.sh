#!/usr/bin/env bash
# Runs the GPU part of the project on a GPU host that has the CUDA driver and toolkit but no .NET SDK.
# Expects, beside the repository's sources: .gpu/ (from `dotnet cake --target=GpuBundle`, or .gpu.tar.xz)
# and CUTLASS headers (CUTLASS_DIR, or .deps/cutlass, or .deps/cutlass.tar.xz).
#
# usage: scripts/gpu-host.sh native|test|moe|bench|all|release|release-check|memcheck|moe-train|bench-train|torchsharp|sweep|focus|tile-sweep|experiment [extra args for the step]
#   release        builds the release library (every architecture the package carries, CUTLASS, the release sm90
#                  kernels), runs the native tests and the parity script on it, and leaves in $OUT
#                  libgroupedgemm.so.xz with release-manifest.txt (size, build line, cuobjdump --list-elf summary;
#                  env GG_RELEASE_SHA256: whether the file is byte for byte the one of that sha256)
#   release-check  on a GPU host, with .gpu/consumer (the package consumer published by `dotnet cake --target=GpuBundle
#                  --native-lib=<release library>`): runs the consumer against the library inside the package, the
#                  ILGPU interop sample, and the same forwards through GroupedGemm.Bench, and compares their timings
#   memcheck       compute-sanitizer memcheck over the whole .NET test suite (in parts side by side: a sanitized run is
#                  10-50x slower), then gmm_parity.py's shards (six, GG_MEMCHECK_SHARDS; without its routed shapes),
#                  those shapes alone (--routed-only) and fp8_parity.py one after another (side by side they ran out of
#                  the card's memory); prints each part's ERROR SUMMARY, and fails a part with any error;
#                  every part's log in $OUT/memcheck-logs.tar.xz
#                  (env GG_MEMCHECK_TIMEOUT: seconds per part, default 540; GG_MEMCHECK_PARTS: all (default), dotnet
#                  or python, to run again only the parts a library has not passed yet)
#   moe-train      the MoE sample's --train run (plain and gated, CPU float64 and GPU), exported and repeated in
#                  PyTorch (bench/moe_training/train_torch.py): the loss curves must agree
#   bench-train    the trainable MoE layer (GroupedGemm.MoE --bench-train, bf16) and the PyTorch eager layer
#                  (bench/moe_training/moe_layer_torch.py) timed in one run, then bench/moe_training/merge_bench.py's
#                  ratio .NET / PyTorch per row (moe-bench-net.json, moe-bench-torch.json, moe-bench-ratio.txt)
#   torchsharp     the TorchSharp adapter on PyTorch's CUDA libtorch (torch/lib on LD_LIBRARY_PATH; needs python3 with
#                  torch): its tests (CUDA category included; torchsharp-tests.trx/.log), the sample's --parity (float32 and
#                  bf16, gmm and the layers), its AdamW teacher training on cuda (plain and gated) and --bench at the seed
#                  shape (torchsharp-bench.json); builds the native library first if it is missing
#   sweep          the real-model sweep's parts (bench/run_sweep.sh) named as arguments (indices or names; none:
#                  all 27), one after another on each GPU (those CUDA_VISIBLE_DEVICES names, else every GPU; at most
#                  GG_SWEEP_GPUS: the parts in the order given, each to the next GPU free) into $OUT/sweep, starting a
#                  part only while its measured time and a fifth more (bench/sweep/part-seconds.tsv, by name;
#                  GG_SWEEP_PART_SECONDS, default 170, otherwise) fit what is left of GG_SWEEP_SECONDS (default 540), so
#                  that one call of limited length ends with whole parts; prints the parts it left for the next call
#   tile-sweep     bench/sweep/tile_sweep.sh into $OUT/tile-measurements (arguments: its options and parts): every
#                  cutlass-sm90 tile on the sweep's shapes, for Auto's measured tile table (bench/sweep/make_tile_table.py);
#                  needs a tuning build (GG_SM90_TUNING=1 with the native step) at GROUPEDGEMM_NATIVE_PATH; parts start
#                  only while GG_SWEEP_SECONDS (default 540) remain
#   experiment     PLAN: an experiment build (GG_SM90_KERNELS from bench/sweep/experiment-kernels.txt unless set),
#                  gmm_parity.py on it, then one bench/tune_sm90.py run for each line of PLAN ("forms tokens routings
#                  variants [models]", '#' comments) on the sweep's problems (one part of each model, from the part archives in
#                  docs/h100/), with the package's release library (.gpu/consumer, when there) as --lib-b in the same loop:
#                  $OUT/experiment-<line>.json, experiment-parity.log, experiment-summary.txt (bench/sweep/
#                  experiment_summary.py over every line's JSON); env GG_EXPERIMENT_BUILT=1 on a warm machine:
#                  keep the build and run only the plan; GG_EXPERIMENT_LIB=PATH: no build, the plan on that library
#                  (a release candidate: plain `auto` variants); GG_EXPERIMENT_LIB_B=PATH: lib-b instead of the package's;
#                  GG_EXPERIMENT_DTYPE=fp16: the plan's rows in fp16 (default bf16), and a build with the fp16 twin of
#                  every default kernel (bench/sweep/experiment-kernels.txt lists bf16's)
#   focus          bench/sweep/focus.sh on the focus file given (default bench/sweep/focus.json) into $OUT/focus, then
#                  bench/sweep/decode_overhead.py on its decode rows ($OUT/focus/decode-overhead.json)
#   env OUT        folder for logs and results (default: artifacts/gpu)
#   env GG_ARCHS   architectures of the native build (default: 90a on Hopper, else 80)
#   env GG_SM90_KERNELS  native step, experiments only: build just these cutlass-sm90 kernels (scripts/build-native.sh)
#   env GG_SM90_TUNING   native step, 1: every cutlass-sm90 kernel and the tuning knobs, for bench/tune_sm90.py
#                        (default: the release set, no knobs)
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
export GROUPEDGEMM_NATIVE_PATH=${GROUPEDGEMM_NATIVE_PATH:-$root/artifacts/native/libgroupedgemm.so}
# What a release carries: SASS for sm_80 and sm_90a, PTX for compute_80 so that newer GPUs JIT the portable kernels.
release_archs="80;90a-real"

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

# On a GPU host every GPU test must run: a GPU test that finds no usable library or device fails here instead of being
# skipped (tests/GroupedGemm.Net.Tests/Support/GpuGuard.cs). A GROUPEDGEMM_NATIVE_PATH naming no file once skipped
# them all, and the suite still reported 0 failed.
export_require_gpu() { export GG_TESTS_REQUIRE_GPU=1; }

step_test() {
  export_require_gpu
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

step_release() {
  [[ -n "${CUTLASS_DIR:-}" ]] || { echo "release: CUTLASS headers are needed (CUTLASS_DIR, .deps/cutlass or .deps/cutlass.tar.xz)" >&2; return 2; }
  local build=$root/build/native-release lib=$root/artifacts/release/libgroupedgemm.so
  bash scripts/build-native.sh "$release_archs" "$root/artifacts/release" "$build" 2>&1 | tee "$out/release-build.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || return 1
  local rc=0
  ctest --test-dir "$build" --output-on-failure 2>&1 | tee "$out/release-ctest.log" || rc=1
  {
    echo "file: libgroupedgemm.so, $(stat -c %s "$lib") bytes, sha256 $(sha256sum "$lib" | cut -d' ' -f1)"
    strings "$lib" | grep '^groupedgemm-build:'
    echo "NEEDED: $(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
    echo "cuobjdump --list-elf: $(cuobjdump --list-elf "$lib" | wc -l) cubins"
    cuobjdump --list-elf "$lib" | sed -n 's/.*\.\(sm_[0-9a-z]*\)\..*/\1/p' | sort | uniq -c | sed 's/^/  /'
    echo "cuobjdump --list-ptx: $(cuobjdump --list-ptx "$lib" | wc -l) PTX files"
    cuobjdump --list-ptx "$lib" | sed -n 's/.*\.\(sm_[0-9a-z]*\)\..*/\1/p' | sort | uniq -c | sed 's/^/  /'
    echo "card: $(cat "$out/card.txt")"
  } > "$out/release-manifest.txt"
  # A library does not outlive its session's machines and cannot be committed (it holds CUTLASS's code): a later run
  # rebuilds the candidate's commit and names the sha256 it measured (docs/release.md), to learn whether the file is the
  # same one before the package checks.
  if [[ -n "${GG_RELEASE_SHA256:-}" ]]; then
    local built_sha; built_sha=$(sha256sum "$lib" | cut -d' ' -f1)
    if [[ $built_sha == "$GG_RELEASE_SHA256" ]]; then
      echo "sha256: the same file as the candidate's ($GG_RELEASE_SHA256)" >> "$out/release-manifest.txt"
    else
      echo "sha256: DIFFERS from the candidate's $GG_RELEASE_SHA256 (this build: $built_sha)" >> "$out/release-manifest.txt"
    fi
  fi
  cat "$out/release-manifest.txt"
  xz -T0 -6 -c "$lib" > "$out/libgroupedgemm.so.xz"
  # The parity script last: a call stopped at its time limit still leaves the manifest and the file above (the 0.13.0
  # run's step stopped in the script, before either was written).
  timeout "${GG_PARITY_TIMEOUT:-600}" python3 native/tests/gmm_parity.py --lib "$lib" 2>&1 | tail -n 40 | tee "$out/release-parity.log" || rc=1
  return $rc
}

step_release_check() {
  # The consumer loads the library inside its package, never one named by GROUPEDGEMM_NATIVE_PATH.
  local rc=0 problems=$out/release-problems.json
  # Both programs time 20 warm-up calls and medians of 200: with 10 and 50, a 1.6 ms forward (qwen-moe-like) moved
  # between 1.55 and 1.81 ms from one process to the next on an H100, in both programs, where runs of 200 held within
  # 0.2% (docs/release.md, "The 0.5.0 run").
  local warmup=20 iters=200
  python3 bench/torch_baseline.py --problems-only --problems-out "$problems" --configs seed-300M,qwen-moe-like \
    --routings uniform
  env -u GROUPEDGEMM_NATIVE_PATH .gpu/consumer/Consumer --problems "$problems" --json "$out/release-consumer.json" \
    --warmup "$warmup" --iters "$iters" 2>&1 | tee "$out/release-consumer.log" || rc=1
  # The same forwards through the benchmark, with the library the consumer loaded (the package's), ours alone in the
  # loop as in the consumer (with the dense GEMM interleaved in the loop, qwen-like measured 0.88-1.02 consumer / bench).
  GROUPEDGEMM_NATIVE_PATH=$root/.gpu/consumer/libgroupedgemm.so .gpu/GroupedGemm.Bench run --problems "$problems" \
    --out "$out/release-bench.json" --routings uniform --dtype bf16 --forms forward --backends auto --counts device \
    --no-dense --iters "$iters" --warmup "$warmup" 2>&1 | tail -n 20 | tee "$out/release-bench.log" || rc=1
  python3 scripts/release_compare.py "$out/release-consumer.json" "$out/release-bench.json" 2>&1 \
    | tee "$out/release-compare.txt" || rc=1
  if [[ -x .gpu/GroupedGemm.Interop.Ilgpu ]]; then
    GROUPEDGEMM_NATIVE_PATH=$root/.gpu/consumer/libgroupedgemm.so .gpu/GroupedGemm.Interop.Ilgpu 2>&1 | tee "$out/release-ilgpu.log" || rc=1
  fi
  return $rc
}

# shellcheck source=scripts/memcheck-counts.sh
source "$root/scripts/memcheck-counts.sh"

# One memcheck process's line in memcheck.txt: its exit status, the sanitizer's ERROR SUMMARY and the tests' counts.
# Returns 1 when the process failed.
memcheck_report() {
  local name=$1 status=$2 summary tests
  summary=$(grep -h "ERROR SUMMARY" "$out/memcheck-$name.log" 2>/dev/null | tail -n 1)
  tests=$(memcheck_counts "$out/memcheck-$name.out")
  echo "memcheck $name: exit $status; ${summary:-no ERROR SUMMARY (timed out?)}; $tests" | tee -a "$out/memcheck.txt"
  # A part passes on its own exit status and zero sanitizer errors: compute-sanitizer returns the program's status, so
  # a program that reports errors and exits 0 would pass on the status alone (0.9.0's first memcheck: a parity shard
  # with 28 errors and exit 0).
  [[ $status -eq 0 && $summary =~ SUMMARY:\ 0\ errors ]]
}

step_memcheck() {
  command -v compute-sanitizer >/dev/null || { echo "memcheck: compute-sanitizer is not on PATH" >&2; return 2; }
  local lib=${GROUPEDGEMM_NATIVE_PATH} limit=${GG_MEMCHECK_TIMEOUT:-540} rc=0 pids=() names=()
  local sanitize=(compute-sanitizer --tool memcheck --target-processes all --print-limit 20)
  # Positive control: a kernel that writes one element past its buffer must be reported, or the zeros below mean
  # nothing.
  local control=$root/build/memcheck_control
  mkdir -p "$root/build"
  nvcc -O1 -o "$control" native/tests/memcheck_control.cu || return 1
  "${sanitize[@]}" --log-file "$out/memcheck-control.log" "$control" > "$out/memcheck-control.out" 2>&1
  local control_summary; control_summary=$(grep -h "ERROR SUMMARY" "$out/memcheck-control.log" | tail -n 1)
  echo "memcheck control (one write past the end): ${control_summary:-no ERROR SUMMARY}" | tee -a "$out/memcheck.txt"
  [[ $control_summary =~ SUMMARY:\ [1-9] ]] || { echo "memcheck: the sanitizer missed the control's error" >&2; return 1; }
  # The suite in parts of similar sanitized length; the parts together are the whole suite ("rest" is everything the
  # others leave out). They run side by side, except the out-of-memory part: its tests fail a cudaMalloc on purpose
  # (the out-of-memory exception; the caching allocator's empty-and-retry, which first fills what is free), and beside
  # it the other processes' own allocations failed (gmm_parity.py's shards ran out of memory on an H100, 2026-12-06).
  local oom_tests=(An_allocation_beyond_device_memory_throws_CudaOutOfMemoryException
                   An_allocation_larger_than_what_is_free_beside_theCache_empties_it_and_succeeds)
  local oom_any="" oom_none=""
  for t in "${oom_tests[@]}"; do oom_any+="${oom_any:+|}FullyQualifiedName~$t"; oom_none+="&FullyQualifiedName!~$t"; done
  local parts=(
    "shapes|FullyQualifiedName~GmmShapeTests|FullyQualifiedName~GmmBackendMatrixTests"
    "large|FullyQualifiedName~LargeTensorTests"
    "moe|FullyQualifiedName~GroupedGemm.Tests.Moe."
    "rest|FullyQualifiedName!~GmmShapeTests&FullyQualifiedName!~GmmBackendMatrixTests&FullyQualifiedName!~LargeTensorTests&FullyQualifiedName!~GroupedGemm.Tests.Moe.$oom_none"
  )
  local dotnet=1 python=1
  case ${GG_MEMCHECK_PARTS:-all} in
    all) ;;
    dotnet) python=0 ;;
    python) dotnet=0 ;;
    *) echo "memcheck: GG_MEMCHECK_PARTS is '$GG_MEMCHECK_PARTS', not all, dotnet or python" >&2; return 2 ;;
  esac
  (( dotnet )) || parts=()
  export_require_gpu
  for part in "${parts[@]}"; do
    local name=suite-${part%%|*} filter=${part#*|}
    timeout "$limit" "${sanitize[@]}" --log-file "$out/memcheck-$name.log" .gpu/GroupedGemm.Net.Tests \
      --filter "$filter" > "$out/memcheck-$name.out" 2>&1 &
    pids+=($!); names+=("$name")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}"
    memcheck_report "${names[$i]}" $? || rc=1
  done
  # The Python checks one after another, after the .NET parts, with PyTorch's caching allocator off: with it, one shard
  # of gmm_parity.py alone ran out of an H100's memory (77 GB allocated by PyTorch); without it but side by side, three
  # of the four shards did (cudaMalloc out of memory, 0.9.0's first memcheck), and one after another each passed in
  # 37-43 s with 0 errors (H100, 2026-12-06). Under the sanitizer PyTorch keeps its own tensors' memory (2026-12-07: with
  # no library call, `gmm_parity.py --backends none --memory-each-shape` still grew the card's use to 11.5 GB; with every
  # backend, shape by shape to 70 GB, of which closing the library's handle gave back 0.1 GB): hence shards, each a
  # process that gives it all back (docs/reliability.md, hazard 15). 0.16.0's routed shapes at the default list's end
  # (k = 4096, n = 2048: its largest float64 weight gradients) ran two shards of four, then two of six, out of the card's
  # memory in PyTorch's own cudaMalloc there (0.6-0.9 of 79 GiB free; H100, 2026-12-07), while the others ended with
  # 11-55 GiB free: the shards leave those shapes out (--skip-routed), and the part after them runs them alone.
  local nshards=${GG_MEMCHECK_SHARDS:-6} shards=()
  (( python )) && for (( shard = 0; shard < nshards; shard++ )); do shards+=("$shard"); done
  for shard in "${shards[@]}"; do
    local name=parity-$shard-of-$nshards
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout "$limit" "${sanitize[@]}" --log-file "$out/memcheck-$name.log" \
      python3 native/tests/gmm_parity.py --lib "$lib" --skip-routed --shard "$shard/$nshards" > "$out/memcheck-$name.out" 2>&1
    memcheck_report "$name" $? || rc=1
  done
  # The shapes of Auto's device route choices and more of the decode rule's (gmm_parity.py --routed-only: both kernels
  # of each rule, chosen on the device from the counts), cutlass-sm90 alone, on an H100 (the rules' card class).
  if (( python )); then
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout "$limit" "${sanitize[@]}" --log-file "$out/memcheck-parity-routed.log" \
      python3 native/tests/gmm_parity.py --lib "$lib" --routed-only --backends cutlass-sm90 \
      > "$out/memcheck-parity-routed.out" 2>&1
    memcheck_report parity-routed $? || rc=1
  fi
  # The FP8 scaled kernels (portable and cutlass-sm90, row-wise and block scales) through their parity script.
  if (( python )); then
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout "$limit" "${sanitize[@]}" --log-file "$out/memcheck-fp8-parity.log" \
      python3 native/tests/fp8_parity.py --lib "$lib" > "$out/memcheck-fp8-parity.out" 2>&1
    memcheck_report fp8-parity $? || rc=1
  fi
  # Alone, and without API-error reports: the sanitizer would count the failed cudaMalloc calls as its own errors (the
  # memory accesses are still checked).
  if (( dotnet )); then
    timeout "$limit" "${sanitize[@]}" --report-api-errors no --log-file "$out/memcheck-suite-oom.log" \
      .gpu/GroupedGemm.Net.Tests --filter "$oom_any" > "$out/memcheck-suite-oom.out" 2>&1
    memcheck_report suite-oom $? || rc=1
  fi
  # Every part's sanitizer log and output in one archive beside memcheck.txt: the file to bring back from a GPU host
  # (0.9.0's first memcheck reported 28 errors in a part whose log was then gone).
  (cd "$out" && tar -cJf memcheck-logs.tar.xz memcheck.txt memcheck-*.log memcheck-*.out)
  return $rc
}

step_moe_train() {
  # The float64 CPU layer must match PyTorch float64 to rounding (1e-6); the GPU layer computes forward and backward in
  # float32, so its curve is held to 1e-3 of PyTorch's float64 one.
  local rc=0
  for gated in "" "--gated"; do
    for device in cpu gpu; do
      local dir=$out/moe-train-$device${gated:+-gated} rtol=1e-6
      [[ $device == gpu ]] && rtol=1e-3
      echo "== --train --device $device $gated" | tee -a "$out/moe-train.log"
      .gpu/GroupedGemm.MoE --train --device "$device" --steps 100 --log-every 25 $gated --export "$dir" 2>&1 \
        | tee -a "$out/moe-train.log" || rc=1
      python3 bench/moe_training/train_torch.py "$dir" --rtol "$rtol" 2>&1 | tee -a "$out/moe-train.log" || rc=1
    done
  done
  return $rc
}

step_bench_train() {
  # The trainable MoE layer's forward and forward + backward against the PyTorch eager layer (issue 24's benchmark), in
  # one run on one card: the .NET rows, the PyTorch rows, and their ratio per row.
  local rc=0
  .gpu/GroupedGemm.MoE --bench-train --warmup 10 --iters 50 --json "$out/moe-bench-net.json" "$@" 2>&1 \
    | tee "$out/moe-bench-train.log" || rc=1
  python3 bench/moe_training/moe_layer_torch.py --json "$out/moe-bench-torch.json" 2>&1 | tee -a "$out/moe-bench-train.log" || rc=1
  python3 bench/moe_training/merge_bench.py "$out/moe-bench-net.json" "$out/moe-bench-torch.json" 2>&1 \
    | tee "$out/moe-bench-ratio.txt" || rc=1
  return $rc
}

step_torchsharp() {
  local rc=0 torchlib gated
  torchlib=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")') ||
    { echo "torchsharp: python3 cannot import torch (its torch/lib is the libtorch TorchSharp loads here)" >&2; return 2; }
  [[ -f $GROUPEDGEMM_NATIVE_PATH ]] || step_native || return 1
  export LD_LIBRARY_PATH=$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "torchsharp: libtorch from $torchlib (torch $(python3 -c 'import torch;print(torch.__version__)'))" | tee "$out/torchsharp.log"
  # GG_REQUIRE_TORCH(_CUDA)=1: a libtorch that does not load, or has no CUDA, fails the tests instead of skipping them.
  GG_REQUIRE_TORCH=1 GG_REQUIRE_TORCH_CUDA=1 .gpu/GroupedGemm.Net.TorchSharp.Tests --results-directory "$out" --report-trx \
    --report-trx-filename torchsharp-tests.trx 2>&1 | tee "$out/torchsharp-tests.log" || rc=1
  .gpu/GroupedGemm.TorchSharp.MoE --parity --device cuda --norms 2>&1 | tee -a "$out/torchsharp.log" || rc=1
  .gpu/GroupedGemm.TorchSharp.MoE --parity --device cuda --norms --tokens 2048 --embed 512 --hidden 2048 --experts 80 --top-k 8 \
    2>&1 | tee -a "$out/torchsharp.log" || rc=1
  for gated in "" "--gated"; do
    .gpu/GroupedGemm.TorchSharp.MoE --device cuda $gated --steps 300 --log-every 25 2>&1 | tee -a "$out/torchsharp.log" || rc=1
  done
  .gpu/GroupedGemm.TorchSharp.MoE --bench --device cuda --json "$out/torchsharp-bench.json" "$@" 2>&1 \
    | tee -a "$out/torchsharp.log" || rc=1
  return $rc
}

step_bench() {
  bash bench/run_gpu.sh --bench-exe .gpu/GroupedGemm.Bench --out "$out" "$@" 2>&1 | tee "$out/bench.log"
  return "${PIPESTATUS[0]}"
}

# A part's measured wall time on an H100 (bench/sweep/part-seconds.tsv) and a fifth more, or GG_SWEEP_PART_SECONDS
# (default 170, a slow part's time on an H100) for a part without a line there.
sweep_part_seconds() {
  local seconds
  seconds=$(awk -F'\t' -v part="$1" '$1 == part { print $2; exit }' bench/sweep/part-seconds.tsv 2>/dev/null)
  if [[ $seconds =~ ^[0-9]+$ ]]; then echo $(( seconds * 6 / 5 )); else echo "${GG_SWEEP_PART_SECONDS:-170}"; fi
}

# The GPUs the sweep's parts spread over, one part per GPU at a time, one device a line: those CUDA_VISIBLE_DEVICES
# names where the caller set it (a worker's own CUDA_VISIBLE_DEVICES is one of them, so a restriction holds), else every
# GPU nvidia-smi lists, else device 0; the first GG_SWEEP_GPUS of them where that is set. A part on its own GPU shares
# only the host's CPUs with the others, and each part measures its own card's copy bandwidth; the parts of one call
# still run one library on one kind of card.
sweep_devices() {
  local devices=() n
  if [[ -n ${CUDA_VISIBLE_DEVICES:-} ]]; then
    IFS=, read -r -a devices <<< "$CUDA_VISIBLE_DEVICES"
  else
    mapfile -t devices < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null)
  fi
  [[ ${#devices[@]} -gt 0 ]] || devices=(0)
  n=${GG_SWEEP_GPUS:-${#devices[@]}}
  [[ $n =~ ^[1-9][0-9]*$ ]] || n=1
  printf '%s\n' "${devices[@]:0:n}"
}

# Takes from the queue file (one part a line, in the order given) the first part whose time (sweep_part_seconds) fits
# the seconds left ($2), under a lock the GPUs' workers share; prints it, or nothing (status 1) when none fits. A part
# that does not fit stays queued, so a shorter one after it may still run.
sweep_take_part() {
  local queue=$1 left=$2 lock=$1.lock part taken="" rest=()
  until mkdir "$lock" 2>/dev/null; do sleep 0.2; done
  while IFS= read -r part; do
    [[ -n $part ]] || continue
    if [[ -z $taken ]] && (( left >= $(sweep_part_seconds "$part") )); then taken=$part; else rest+=("$part"); fi
  done < "$queue"
  printf '%s\n' "${rest[@]+"${rest[@]}"}" > "$queue"
  rmdir "$lock"
  [[ -n $taken ]] && echo "$taken"
}

# One GPU's worker: parts from the queue, one after another, until none fits what is left of the budget (wall-clock
# seconds from `since`, date +%s, which subshells share).
sweep_worker() {
  local gpu=$1 queue=$2 budget=$3 since=$4 rc=0 part
  while part=$(sweep_take_part "$queue" $(( budget - ($(date +%s) - since) ))); do
    CUDA_VISIBLE_DEVICES=$gpu bash bench/run_sweep.sh --part "$part" --out "$out/sweep" \
      > "$out/sweep/part-${part//\//__}.out" 2>&1 || rc=1
    echo "sweep: part $part (GPU $gpu): $(tail -n 1 "$out/sweep/part-${part//\//__}.out")" | tee -a "$out/sweep.txt"
  done
  return $rc
}

step_sweep() {
  local budget=${GG_SWEEP_SECONDS:-540} rc=0 parts=("$@") left=()
  local names=() i gpu devices=() pids=() queue=$out/sweep/queue.txt since
  mapfile -t names < <(.gpu/GroupedGemm.Bench sweep list-parts --names)
  [[ ${#parts[@]} -gt 0 ]] || parts=("${names[@]}")
  # An index becomes its part's name: part-seconds.tsv is keyed by name (an index found no line there and counted as
  # GG_SWEEP_PART_SECONDS, 2026-12-06), and the logs then name the part.
  for i in "${!parts[@]}"; do
    if [[ ${parts[$i]} =~ ^[0-9]+$ ]]; then
      (( parts[i] < ${#names[@]} )) || { echo "sweep: no part ${parts[$i]} (0-$(( ${#names[@]} - 1 )))" >&2; return 2; }
      parts[i]=${names[${parts[$i]}]}
    fi
  done
  mkdir -p "$out/sweep"
  printf '%s\n' "${parts[@]}" > "$queue"
  mapfile -t devices < <(sweep_devices)
  since=$(date +%s)
  for gpu in "${devices[@]}"; do
    sweep_worker "$gpu" "$queue" "$budget" "$since" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  mapfile -t left < <(grep . "$queue")
  rm -f "$queue"
  [[ ${#left[@]} -eq 0 ]] || echo "sweep: not started (time): ${left[*]}" | tee -a "$out/sweep.txt"
  return $rc
}

step_tile_sweep() {
  GG_SWEEP_SECONDS=${GG_SWEEP_SECONDS:-540} bash bench/sweep/tile_sweep.sh --out "$out/tile-measurements" "$@" 2>&1 \
    | tee "$out/tile-sweep.log"
  return "${PIPESTATUS[0]}"
}

step_experiment() {
  local plan=${1:-} rc=0 dtype=${GG_EXPERIMENT_DTYPE:-bf16}
  [[ -f $plan ]] || { echo "experiment: give a plan file (see the comment at the top of scripts/gpu-host.sh)" >&2; return 2; }
  [[ $dtype == bf16 || $dtype == fp16 ]] || { echo "experiment: GG_EXPERIMENT_DTYPE=$dtype: bf16 or fp16" >&2; return 2; }
  # The release library as --lib-b when the package is here; without it the plan's variants are the comparison (the
  # tuning knobs can set the policy a change replaced, in the same build).
  local release=${GG_EXPERIMENT_LIB_B:-$root/.gpu/consumer/libgroupedgemm.so} lib_b=()
  if [[ -f $release ]]; then lib_b=(--lib-b "$release"); else echo "experiment: no release library at $release: no lib-b"; fi
  local built=$root/artifacts/native/libgroupedgemm.so  # where step_native puts it
  if [[ -n ${GG_EXPERIMENT_LIB:-} ]]; then
    # A library built already (a release candidate against the release before it, with a plan of plain `auto`
    # variants): no experiment build; its parity run is the caller's.
    [[ -f $GG_EXPERIMENT_LIB ]] || { echo "experiment: GG_EXPERIMENT_LIB $GG_EXPERIMENT_LIB is missing" >&2; return 2; }
    built=$GG_EXPERIMENT_LIB
    echo "experiment: the plan on $built"
  elif [[ ${GG_EXPERIMENT_BUILT:-0} == 1 && -f $built ]]; then
    # A later call on the same (warm) machine: the build and its parity run are done; more plan lines only.
    echo "experiment: reusing $built"
  else
    # Only the build needs CUTLASS: a plan on a library built already (above) runs without it.
    [[ -n "${CUTLASS_DIR:-}" ]] || { echo "experiment: CUTLASS headers are needed to build (.deps/cutlass.tar.xz)" >&2; return 2; }
    if [[ -z "${GG_SM90_KERNELS:-}" ]]; then
      GG_SM90_KERNELS=$(grep -v '^#' bench/sweep/experiment-kernels.txt | grep . | paste -sd, -)
      # fp16 rows: the same kernels in both element types (the list's patterns all start with ^bf16_).
      [[ $dtype == fp16 ]] && GG_SM90_KERNELS=${GG_SM90_KERNELS//^bf16_/^(bf16|fp16)_}
    fi
    GG_SM90_KERNELS=$GG_SM90_KERNELS step_native || return 1
    # Without GG_EXPERIMENT_DTYPE=fp16 the build has no fp16 kernels: those calls fail as not compiled, counted apart
    # from wrong results.
    # GG_EXPERIMENT_PARITY_ARGS: more gmm_parity.py options, such as --sm90-knobs for a kernel the policy does not
    # choose yet.
    # shellcheck disable=SC2086
    timeout "${GG_PARITY_TIMEOUT:-400}" python3 native/tests/gmm_parity.py --lib "$built" ${GG_EXPERIMENT_PARITY_ARGS:-} \
      > "$out/experiment-parity.log" 2>&1
    tail -n 3 "$out/experiment-parity.log"
  fi
  # The problems of each line's models: bench/sweep/check_plans.py reads the part archives under docs/h100/ (one
  # part of each model), the same reading that checks the plans on a machine without a GPU.
  local parts=$root/build/experiment-parts
  rm -rf "$parts"
  local line=0 forms tokens routings variants models problems
  while read -r forms tokens routings variants models; do
    [[ -z $forms || $forms == \#* ]] && continue
    line=$((line + 1))
    # An optional fifth field: only these models (comma list of model names); none: every model.
    problems=$(python3 bench/sweep/check_plans.py --problem-files "$parts" "$models") || rc=1
    [[ -n $problems ]] || continue
    echo "experiment $line: forms $forms, tokens $tokens, routings $routings, variants $variants, models ${models:-all}"
    python3 bench/tune_sm90.py --lib "$built" "${lib_b[@]}" --problems "$problems" \
      --forms "$forms" --tokens "$tokens" --routings "$routings" --variants "$variants" --dtype "$dtype" --iters 10 --warmup 3 \
      --no-padded --out "$out/experiment-$line.json" > "$out/experiment-$line.log" 2>&1 || rc=1
    tail -n 2 "$out/experiment-$line.log"
  done < "$plan"
  # Every line's result in a few lines (each library against torch, the experiment over the release): what to read on
  # a warm machine before its next call.
  local results=("$out"/experiment-*.json)
  if [[ -f ${results[0]} ]]; then
    python3 bench/sweep/experiment_summary.py "${results[@]}" > "$out/experiment-summary.txt" 2>&1 || rc=1
    cat "$out/experiment-summary.txt"
  fi
  return $rc
}

step_focus() {
  local focus=${1:-bench/sweep/focus.json} rc=0
  bash bench/sweep/focus.sh --out "$out/focus" --focus "$focus" || rc=1
  python3 bench/sweep/decode_overhead.py --focus "$focus" --dir "$out/focus" --json "$out/focus/decode-overhead.json" \
    2>&1 | tee "$out/focus/decode-overhead.txt" || rc=1
  return $rc
}

step=${1:-all}; shift || true
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader | tee "$out/card.txt"
case "$step" in
  native) step_native ;;
  test)   step_test "$@" ;;
  moe)    step_moe "$@" ;;
  bench)  step_bench "$@" ;;
  release) step_release ;;
  release-check) step_release_check ;;
  memcheck) step_memcheck ;;
  moe-train) step_moe_train ;;
  bench-train) step_bench_train "$@" ;;
  torchsharp) step_torchsharp "$@" ;;
  sweep)  step_sweep "$@" ;;
  focus)  step_focus "$@" ;;
  experiment) step_experiment "$@" ;;
  tile-sweep) step_tile_sweep "$@" ;;
  all)    step_native && { step_test; t=$?; step_moe; m=$?; step_bench; b=$?; exit $(( t || m || b )); } ;;
  *) echo "usage: $0 native|test|moe|bench|all|release|release-check|memcheck|moe-train|bench-train|torchsharp|sweep|focus|tile-sweep|experiment" >&2; exit 2 ;;
esac
