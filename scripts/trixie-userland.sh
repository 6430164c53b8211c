#!/usr/bin/env bash
# Makes a minimal Debian 13 (trixie) userland in DIR (default .trixie/, gitignored) for the TorchSharp tests:
# TorchSharp 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32 and trixie's libstdc++ needs glibc 2.38, while Debian 12
# (this project's machines and CI) has GLIBCXX_3.4.30 and glibc 2.36. Only trixie's libc6, libgcc-s1 and libstdc++6
# are fetched (apt, with a private state folder: the host's apt setup is untouched) and unpacked with dpkg-deb, plus a
# passwd/group file (.NET reads the user name). Lighter than debootstrap (about 4 MB of packages, seconds) and enough:
# the .NET runtime and the test output are bind-mounted in by scripts/run-in-trixie.sh, and the tests run with
# DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 (no ICU). Idempotent: an existing complete userland is kept.
# Exit 0 and the folder on success; non-zero with the reason on stderr otherwise.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Absolute: apt runs in the download folder below, where a relative path would point elsewhere.
dir=$(realpath -m -- "${1:-$root/.trixie}")
mirror=${TRIXIE_MIRROR:-http://deb.debian.org/debian}
packages=(libc6 libgcc-s1 libstdc++6)

if [[ -f $dir/.complete ]]; then
  echo "trixie userland: $dir (already made)"
  exit 0
fi
started=$SECONDS
rm -rf "$dir"
state=$dir.apt
mkdir -p "$state"/{lists/partial,cache/archives/partial,debs} "$dir"
echo "deb $mirror trixie main" > "$state/sources.list"
: > "$state/preferences"
apt_opts=(-q -o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
  -o "Dir::Etc::Preferences=$state/preferences" -o Dir::Etc::PreferencesParts=/dev/null
  -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update >/dev/null || { echo "trixie userland: apt-get update of $mirror trixie failed" >&2; exit 1; }
( cd "$state/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}" >/dev/null ) ||
  { echo "trixie userland: downloading ${packages[*]} from trixie failed" >&2; exit 1; }
for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$dir"; done
rm -rf "$state"
# trixie is merged-/usr: the loader's path /lib64/ld-linux-x86-64.so.2 goes through these links.
ln -sfn usr/lib "$dir/lib"
ln -sfn usr/lib64 "$dir/lib64"
mkdir -p "$dir/etc" "$dir/proc" "$dir/dev" "$dir/tmp"
chmod 1777 "$dir/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/etc/passwd"
echo 'root:x:0:' > "$dir/etc/group"
[[ -x $dir/lib64/ld-linux-x86-64.so.2 && -e $dir/usr/lib/x86_64-linux-gnu/libstdc++.so.6 ]] ||
  { echo "trixie userland: $dir lacks the loader or libstdc++ after unpacking" >&2; exit 1; }
touch "$dir/.complete"
echo "trixie userland: $dir made in $((SECONDS - started)) s ($(du -sh "$dir" | cut -f1))"
