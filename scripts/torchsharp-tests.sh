#!/usr/bin/env bash
# Runs the TorchSharp adapter's tests (already built, Release) for `dotnet cake --target=Test`, writing a TRX into
# RESULTS (the Test target adds its counts into the totals line):
#   scripts/torchsharp-tests.sh RESULTS [CONFIGURATION]
# On Debian 12 libtorch cannot load (see scripts/trixie-userland.sh), so the tests run inside a trixie userland. If
# that userland cannot be made, they run here and every test is skipped with the reason (GG_TORCH_SKIP_REASON), so
# they show as skipped rather than vanish. Where the host's libstdc++ is new enough they simply run here.
# env GG_TRIXIE_DIR: the userland's folder (default .trixie/); TRIXIE_MIRROR: the Debian mirror (scripts/trixie-userland.sh)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1"
results=$(cd "$1" && pwd)
configuration=${2:-Release}
out=$root/tests/GroupedGemm.Net.TorchSharp.Tests/bin/$configuration/net10.0
dll=$out/GroupedGemm.Net.TorchSharp.Tests.dll
dotnet=$(readlink -f "$(command -v dotnet)")
userland=${GG_TRIXIE_DIR:-$root/.trixie}
args=("$dll" --report-trx --results-directory "$results")
[[ -f $dll ]] || { echo "torchsharp tests: $dll is not built" >&2; exit 1; }

host_libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [[ -n $host_libstdcxx ]] && grep -aq GLIBCXX_3.4.32 "$host_libstdcxx"; then
  echo "torchsharp tests: this machine's libstdc++ has GLIBCXX_3.4.32; running them here"
  GG_REQUIRE_TORCH=1 "$dotnet" "${args[@]}"
  exit $?
fi
started=$SECONDS
if reason=$(bash "$root/scripts/trixie-userland.sh" "$userland" 2>&1 >/dev/null | tail -n 1); then
  echo "torchsharp tests: in the trixie userland $userland (ready after $((SECONDS - started)) s)"
  GG_REQUIRE_TORCH=1 TRIXIE_BINDS=$results bash "$root/scripts/run-in-trixie.sh" "$userland" "$out" "$dotnet" "${args[@]}"
  exit $?
fi
echo "torchsharp tests: no trixie userland ($reason); running here, where they are skipped" >&2
GG_TORCH_SKIP_REASON="no Debian 13 userland for libtorch: $reason" "$dotnet" "${args[@]}"
