#!/usr/bin/env bash
# Memory stays flat as the virtual disk grows: the same 256 MiB of payload merged over dynamic
# parents of growing virtual size, each merge's peak resident memory (max RSS of the JVM) measured,
# with the heap capped so the figure is the engine's and not the collector's appetite.
#
# usage: bench/merge-memory.sh [--dir DIR] [--heap 24m]
# The one 8 MiB copy buffer lives outside the heap, in direct memory (capped at 96 MiB here).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir=""
heap=24m
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work="${dir:-$(mktemp -d "${TMPDIR:-/tmp}/chainmerge-memory.XXXXXX")}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cm() { "$here/chainmerge" "$@"; }
cm --version >/dev/null
{ openssl enc -aes-128-ctr -nosalt -pass pass:chainmerge-memory -pbkdf2 < /dev/zero 2>/dev/null || true; } | head -c $((256 << 20)) > "$work/payload"

echo "virtual size | block size | BAT entries | merge time | peak RSS"
for spec in "1G 32M" "64G 32M" "4T 32M" "4T 1M"; do
  set -- $spec
  rm -f "$work"/base.vhdx "$work"/child.avhdx
  cm create "$work/base.vhdx" --size "$1" --block-size "$2" >/dev/null
  cm create "$work/child.avhdx" --parent "$work/base.vhdx" >/dev/null
  # The payload lands at the start and at the end of the disk: the merge walks the whole BAT.
  cm write "$work/child.avhdx" --offset 0 --input "$work/payload" >/dev/null
  size=$(cm inspect "$work/child.avhdx" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['virtualSize'])")
  cm write "$work/child.avhdx" --offset $((size - (256 << 20))) --input "$work/payload" >/dev/null
  entries=$(cm inspect "$work/base.vhdx" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['details']['batEntries'])")
  /usr/bin/time -f "%e %M" -o "$work/time.txt" \
    java -Xmx"$heap" -XX:MaxDirectMemorySize=96m -jar "$here/cli/target/chainmerge.jar" merge "$work/child.avhdx" >/dev/null

  read -r seconds kib < "$work/time.txt"
  printf '%12s | %10s | %11s | %8.1f s | %5d MiB\n' "$1" "$2" "$entries" "$seconds" $((kib / 1024))
done
