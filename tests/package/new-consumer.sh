#!/usr/bin/env bash
# Creates a fresh console project outside the repository that restores GroupedGemm.Net from a local folder feed
# only (none of the repository's props, packages or sources), with the given Program.cs. Prints the project folder.
# Used by consume.sh (CI's package test) and publish-consumer.sh (the release check's consumer).
# usage: tests/package/new-consumer.sh FEED_DIR PROGRAM_CS WORK_DIR
set -euo pipefail
feed=$(cd "${1:?folder holding GroupedGemm.Net.*.nupkg}" && pwd)
program=$(cd "$(dirname "${2:?Program.cs of the consumer}")" && pwd)/$(basename "$2")
work=${3:?work folder}
# Release or prerelease: 0.17.1, 0.17.1-dev.nocutlass (never the .snupkg symbols package).
version=$(ls "$feed" | sed -n 's/^GroupedGemm\.Net\.\([0-9][0-9A-Za-z.-]*\)\.nupkg$/\1/p' | head -n 1)
[[ -n "$version" ]] || { echo "no GroupedGemm.Net package in $feed" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
echo '<Project />' > Directory.Build.props
echo '<Project />' > Directory.Build.targets
echo '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>' > Directory.Packages.props
# GroupedGemm.Net from the feed only (a package cache of its own, so no earlier package of the same version can stand in);
# anything else a self-contained publish needs (the .NET runtime packs) from this machine's own package sources.
cache=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')
cat > nuget.config <<NUGET
<configuration>
  <packageSources>
    <add key="local" value="$feed" />
    <add key="machine-cache" value="$cache" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="GroupedGemm.Net" /></packageSource>
    <packageSource key="machine-cache"><package pattern="*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
</configuration>
NUGET
dotnet new console -n Consumer -o Consumer --no-restore >/dev/null
cp "$program" Consumer/Program.cs
dotnet add Consumer package GroupedGemm.Net --version "$version" --no-restore >/dev/null
echo "$work/Consumer"
