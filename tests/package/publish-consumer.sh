#!/usr/bin/env bash
# Publishes the release check's consumer (tests/package/release/Program.cs), restored from the package in FEED_DIR
# into a fresh project outside the repository, self-contained for linux-x64 into OUT_DIR: what a user ships. On a GPU
# host it needs the NVIDIA driver only (scripts/gpu-host.sh release-check runs it).
# usage: tests/package/publish-consumer.sh FEED_DIR OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mkdir -p "${2:?output folder}" && cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project=$(bash "$here/new-consumer.sh" "${1:?folder holding GroupedGemm.Net.*.nupkg}" "$here/release/Program.cs" "$work")
dotnet publish "$project" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none -o "$out"
test -f "$out/libgroupedgemm.so" || { echo "publish-consumer: the package's libgroupedgemm.so is not in $out" >&2; exit 1; }
echo "published the consumer into $out"
