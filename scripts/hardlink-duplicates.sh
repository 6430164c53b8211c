#!/usr/bin/env bash
# Replaces each file under DIR that is byte-identical to the file at the same relative path under REFERENCE with a hard
# link to it, so that an archive of both (the GPU bundle: the tests' and the consumer's self-contained runtimes) holds
# such files once.
# usage: scripts/hardlink-duplicates.sh DIR REFERENCE
set -euo pipefail
dir=$(cd "${1:?folder to deduplicate}" && pwd)
reference=$(cd "${2:?reference folder}" && pwd)
linked=0
while IFS= read -r -d '' file; do
  relative=${file#"$dir"/}
  if [[ -f "$reference/$relative" ]] && cmp -s "$file" "$reference/$relative"; then
    ln -f "$reference/$relative" "$file"
    linked=$((linked + 1))
  fi
done < <(find "$dir" -type f -print0)
echo "hard-linked $linked file(s) of $dir to $reference"
