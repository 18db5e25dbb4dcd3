#!/usr/bin/env bash
# A merge as a storage host meets it: the child was written long ago, so nothing is in the page cache.
# Each step starts from a dropped page cache and is timed as a whole process, followed by sync:
#   - dd conv=fsync of the same payload (a sequential copy: the physical limit);
#   - qemu-img commit of a qcow2 chain holding the same data (the nearest tool on Linux);
#   - chainmerge merge of a child holding the payload over an empty dynamic parent (JVM start included).
# Prints each round and the ratios of merge time to the two baselines' times (above 1: slower).
#
# usage: bench/merge-cold.sh [--size 1G] [--format vhdx|vhd] [--rounds 3] [--dir DIR]
# Needs root (to drop the page cache), java, qemu-utils, bc.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=1G
format=vhdx
rounds=3
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -w /proc/sys/vm/drop_caches ] || { echo "bench: dropping the page cache needs root" >&2; exit 2; }
case "$format" in vhdx|vhd) ;; *) echo "bench: --format is vhdx or vhd" >&2; exit 2 ;; esac
bytes=$(numfmt --from=iec "$size")
cm="$here/chainmerge"
work="${dir:-$(mktemp -d "${TMPDIR:-/tmp}/chainmerge-cold.XXXXXX")}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
head -c "$bytes" /dev/urandom > "$work/payload.bin"
"$cm" --version > /dev/null # builds the jar first, untimed

cold() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 2; }
seconds() { local a b; a=$(date +%s.%N); "$@"; b=$(date +%s.%N); echo "$b - $a" | bc -l; }
results="$work/results.tsv"
: > "$results"
for ((round = 1; round <= rounds; round++)); do
  rm -f "$work"/base.* "$work"/child.* "$work"/*.qcow2 "$work/copy.bin"
  "$cm" create "$work/base.$format" --size $((bytes * 2)) > /dev/null
  "$cm" create "$work/child.a$format" --parent "$work/base.$format" > /dev/null
  "$cm" write "$work/child.a$format" --offset 0 --input "$work/payload.bin" > /dev/null
  qemu-img create -q -f qcow2 "$work/base.qcow2" $((bytes * 2))
  qemu-img create -q -f qcow2 -b "$work/base.qcow2" -F qcow2 "$work/child.qcow2"
  qemu-io -f qcow2 -c "write -q -s $work/payload.bin 0 $bytes" "$work/child.qcow2"
  cold; copy=$(seconds dd if="$work/payload.bin" of="$work/copy.bin" bs=8M conv=fsync status=none)
  cold; commit=$(seconds bash -c "qemu-img commit -q -f qcow2 '$work/child.qcow2' && sync")
  cold; merge=$(seconds bash -c "'$cm' merge '$work/child.a$format' --quiet-period 0s > /dev/null && sync")
  printf '%s\t%s\t%s\n' "$copy" "$commit" "$merge" >> "$results"
  printf 'round %d (%s, %s): copy %.2f s, qemu-img commit %.2f s, chainmerge merge %.2f s\n' \
    "$round" "$format" "$size" "$copy" "$commit" "$merge"
done
/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
copy, commit, merge = (statistics.median(c) for c in zip(*rows))
print("median: copy %.2f s, qemu-img commit %.2f s, merge %.2f s | merge time / copy time %.2f, merge time / commit time %.2f"
      % (copy, commit, merge, merge / copy, merge / commit))
PY
