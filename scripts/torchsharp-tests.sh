#!/usr/bin/env bash
# Runs the TorchSharp adapter's tests (already built, Release) for `dotnet cake --target=Test`, writing a TRX into
# RESULTS (the Test target adds its counts into the totals line):
#   scripts/torchsharp-tests.sh RESULTS [CONFIGURATION]
# On Debian 12 libtorch cannot load (see scripts/trixie-userland.sh), so the tests run inside a trixie userland. If
# that userland cannot be made, they run here and every test is skipped with the reason (GG_TORCH_SKIP_REASON), so
# they show as skipped rather than vanish. Where the host's libstdc++ is new enough they simply run here.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=$1
configuration=${2:-Release}
out=$root/tests/GroupedGemm.Net.TorchSharp.Tests/bin/$configuration/net10.0
dll=$out/GroupedGemm.Net.TorchSharp.Tests.dll
dotnet=$(readlink -f "$(command -v dotnet)")
args=("$dll" --report-trx --results-directory "$results")
[[ -f $dll ]] || { echo "torchsharp tests: $dll is not built" >&2; exit 1; }

if strings "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')" 2>/dev/null | grep -q GLIBCXX_3.4.32; then
  echo "torchsharp tests: this machine's libstdc++ has GLIBCXX_3.4.32; running them here"
  GG_REQUIRE_TORCH=1 "$dotnet" "${args[@]}"
  exit $?
fi
started=$SECONDS
if reason=$(bash "$root/scripts/trixie-userland.sh" "$root/.trixie" 2>&1 >/dev/null); then
  echo "torchsharp tests: in the trixie userland $root/.trixie (ready after $((SECONDS - started)) s)"
  GG_REQUIRE_TORCH=1 bash "$root/scripts/run-in-trixie.sh" "$root/.trixie" "$out" "$dotnet" "${args[@]}"
  exit $?
fi
echo "torchsharp tests: no trixie userland ($reason); running here, where they are skipped" >&2
GG_TORCH_SKIP_REASON="no Debian 13 userland for libtorch: $reason" "$dotnet" "${args[@]}"
