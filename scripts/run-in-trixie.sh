#!/usr/bin/env bash
# Runs a .NET command inside the trixie userland made by scripts/trixie-userland.sh:
#   scripts/run-in-trixie.sh USERLAND WORKDIR COMMAND [ARGS...]
# In a private mount namespace (the mounts vanish with the command) it bind-mounts the .NET installation and this
# repository at their own paths, plus /proc and /dev, then runs COMMAND with USERLAND as root and WORKDIR as its
# working directory, without ICU. Needs root (mount, chroot), as CI and this project's machines have.
# env TRIXIE_BINDS: more host folders (colon-separated, absolute, existing) mounted at their own paths.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
userland=$(cd "$1" && pwd)
workdir=$2
shift 2
dotnet_root=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
mounts=""
IFS=: read -r -a extra <<< "${TRIXIE_BINDS:-}"
for path in "$dotnet_root" "$root" "${extra[@]}"; do
  [[ -n $path ]] || continue
  mounts+="mkdir -p '$userland$path' && mount --rbind '$path' '$userland$path' && "
done
exec unshare --mount --propagation private sh -c "$mounts
  mount -t proc proc '$userland/proc' && mount --rbind /dev '$userland/dev' &&
  exec env DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 HOME=/tmp DOTNET_CLI_HOME=/tmp \
    unshare --root='$userland' --wd='$workdir' \"\$@\"" run-in-trixie "$@"
