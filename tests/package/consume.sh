#!/usr/bin/env bash
# Package consumer test: restores GroupedGemm.Net from a local folder feed into a fresh console
# project and calls the API. Without a GPU the call must fail with the clear no-driver/no-device
# exception (proving the native runtime inside the package loads); with a GPU it must compute.
# usage: tests/package/consume.sh FEED_DIR
set -euo pipefail
feed=$(cd "${1:?folder holding GroupedGemm.Net.*.nupkg}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(ls "$feed" | sed -n 's/^GroupedGemm\.Net\.\([0-9][0-9.]*[0-9]\)\.nupkg$/\1/p' | head -n 1)
[[ -n "$version" ]] || { echo "no GroupedGemm.Net package in $feed" >&2; exit 1; }

cd "$work"
# A fresh project outside the repository: none of the repo's props, packages from the feed only.
echo '<Project />' > Directory.Build.props
echo '<Project />' > Directory.Build.targets
echo '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>' > Directory.Packages.props
cat > nuget.config <<NUGET
<configuration>
  <packageSources><clear /><add key="local" value="$feed" /></packageSources>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
</configuration>
NUGET
dotnet new console -n Consumer -o Consumer --no-restore >/dev/null
cp "$here/Program.cs" Consumer/Program.cs
dotnet add Consumer package GroupedGemm.Net --version "$version" --no-restore >/dev/null
dotnet run --project Consumer -c Release
