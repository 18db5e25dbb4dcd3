#!/usr/bin/env bash
# Scan speed: chainmerge scan of N disk files against libvhdi reading the same files' headers, in the
# same run: vhdiinfo once per file (the baseline docs/performance.md names) and pyvhdi opening every file in one
# process (no process start per file).
#
# usage: bench/scan.sh [--chains 1000] [--dir DIR] [--format vhdx]   (3 files per chain: a root and two
#        checkpoints; --format vhd for VHD chains)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chains=1000
dir=""
format=vhdx
while [ $# -gt 0 ]; do
  case "$1" in
    --chains) chains="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v vhdiinfo >/dev/null || { echo "bench: vhdiinfo is needed (libvhdi-utils)" >&2; exit 2; }
case "$format" in
  vhdx) root_ext=vhdx; child_ext=avhdx ;;
  vhd) root_ext=vhd; child_ext=avhd ;;
  *) echo "bench: --format is vhdx or vhd" >&2; exit 2 ;;
esac
work="${dir:-$(mktemp -d "${TMPDIR:-/tmp}/chainmerge-scan.XXXXXX")}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cm() { "$here/chainmerge" "$@"; }
now() { date +%s.%N; }

# One template chain, copied (sparse) into every folder: children find parents by relative path.
mkdir -p "$work/template"
cm create "$work/template/vm.$root_ext" --size 40G >/dev/null
cm create "$work/template/vm_1.$child_ext" --parent "$work/template/vm.$root_ext" >/dev/null
cm create "$work/template/vm_2.$child_ext" --parent "$work/template/vm_1.$child_ext" >/dev/null
for ((i = 0; i < chains; i++)); do
  mkdir -p "$work/fleet/vm$i"
  cp --sparse=always "$work/template/"* "$work/fleet/vm$i/"
done
files=$((chains * 3))
find "$work/fleet" -type f > "$work/files.txt"
sync
cat "$work/fleet"/*/* > /dev/null 2>&1 || true # every run reads from the page cache

t0=$(now); cm scan "$work/fleet" --json > "$work/scan.json"; t1=$(now)
scan_s=$(echo "$t1 - $t0" | bc -l)
found=$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r['disks']), sum(1 for d in r['disks'] if d['link']=='LINKED'))" "$work/scan.json")

t0=$(now); while read -r f; do vhdiinfo "$f" > /dev/null; done < "$work/files.txt"; t1=$(now)
vhdiinfo_s=$(echo "$t1 - $t0" | bc -l)

t0=$(now)
/usr/bin/python3 - "$work/files.txt" <<'PY'
import sys, pyvhdi
for path in open(sys.argv[1]).read().split():
    f = pyvhdi.file(); f.open(path)
    f.get_identifier(); f.get_parent_identifier(); f.get_media_size()
    f.close()
PY
t1=$(now)
pyvhdi_s=$(echo "$t1 - $t0" | bc -l)

printf 'files %d (disks found, linked: %s)\n' "$files" "$found"
printf 'chainmerge scan (one JVM, linking included) %.2f s | vhdiinfo per file %.2f s | pyvhdi in one process %.2f s\n' "$scan_s" "$vhdiinfo_s" "$pyvhdi_s"
/usr/bin/python3 -c "import sys; s,v,p=map(float,sys.argv[1:]); print('ratio: scan time / vhdiinfo time %.2f   scan time / pyvhdi time %.2f' % (s/v, s/p))" "$scan_s" "$vhdiinfo_s" "$pyvhdi_s"
