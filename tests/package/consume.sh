#!/usr/bin/env bash
# Package consumer test: restores GroupedGemm.Net from a local folder feed into a fresh console
# project and calls the API. Without a GPU the call must fail with the clear no-driver/no-device
# exception (proving the native runtime inside the package loads); with a GPU it must compute.
# usage: tests/package/consume.sh FEED_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project=$(bash "$here/new-consumer.sh" "${1:?folder holding GroupedGemm.Net.*.nupkg}" "$here/Program.cs" "$work")
dotnet run --project "$project" -c Release
