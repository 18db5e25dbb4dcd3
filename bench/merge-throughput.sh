#!/usr/bin/env bash
# Merge throughput, measured against two baselines in the same run on the same volume:
#   - a sequential copy of the same payload bytes (dd, flushed): the physical limit;
#   - qemu-img commit of a qcow2 chain holding the same data: the nearest tool on Linux.
# A child holding SIZE of payload (default 2 GiB) over an empty dynamic parent is merged.
#
# usage: bench/merge-throughput.sh [--size 2G] [--dir DIR] [--format vhdx] [--runs 1]
# Needs: java, maven (to build), qemu-utils, openssl, /usr/bin/python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=2G
dir=""
format=vhdx
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in qemu-img qemu-io openssl /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 2; }
done
case "$format" in
  vhdx) root_ext=vhdx; child_ext=avhdx ;;
  vhd) root_ext=vhd; child_ext=avhd ;;
  *) echo "bench: --format is vhdx or vhd" >&2; exit 2 ;;
esac

bytes=$(/usr/bin/python3 -c "import sys; s=sys.argv[1].upper().rstrip('B').rstrip('I'); u={'K':1<<10,'M':1<<20,'G':1<<30,'T':1<<40}; print(int(float(s[:-1])*u[s[-1]]) if s[-1] in u else int(s))" "$size")
chunk=$((256 << 20))
(( bytes % chunk == 0 )) || { echo "bench: --size must be a multiple of 256M" >&2; exit 2; }
chunks=$((bytes / chunk))
virtual=$((bytes * 2))

work="${dir:-$(mktemp -d "${TMPDIR:-/tmp}/chainmerge-bench.XXXXXX")}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cm() { "$here/chainmerge" "$@"; }
now() { date +%s.%N; }
rate() { /usr/bin/python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2]) / 2**20))" "$1" "$2"; }

echo "chainmerge merge throughput: $size of payload, $format, in $work ($(df -h --output=source,fstype "$work" | tail -1))"
cm --version | head -1 >&2

# Payload: a seeded AES-CTR keystream, incompressible and the same on every run.
for ((i = 0; i < chunks; i++)); do
  # head closes the pipe once it has its bytes; the keystream's SIGPIPE is expected.
  { openssl enc -aes-128-ctr -nosalt -pass "pass:chainmerge-bench-$i" -pbkdf2 < /dev/zero 2>/dev/null || true; } \
    | head -c "$chunk" > "$work/chunk.$i"
  [ "$(stat -c %s "$work/chunk.$i")" -eq "$chunk" ] || { echo "bench: payload generation failed" >&2; exit 1; }
done

cat "$work"/chunk.* > "$work/payload.bin"
sync

summary=()
for ((run = 1; run <= runs; run++)); do
  # 1. Sequential copy of the same bytes on the same volume, flushed.
  rm -f "$work/copy.bin"; sync
  t0=$(now); dd if="$work/payload.bin" of="$work/copy.bin" bs=8M conv=fsync status=none; t1=$(now)
  copy_s=$(echo "$t1 - $t0" | bc -l)

  # 2. chainmerge: the payload in a child over an empty dynamic parent, merged.
  rm -f "$work"/base.* "$work"/child.*
  cm create "$work/base.$root_ext" --size "$virtual" >/dev/null
  cm create "$work/child.$child_ext" --parent "$work/base.$root_ext" >/dev/null
  for ((i = 0; i < chunks; i++)); do
    cm write "$work/child.$child_ext" --offset $((i * chunk)) --input "$work/chunk.$i" >/dev/null
  done
  sync
  t0=$(now); cm merge "$work/child.$child_ext" --json > "$work/merge.json"; t1=$(now)
  merge_wall_s=$(echo "$t1 - $t0" | bc -l)
  merge_s=$(/usr/bin/python3 -c "import json,sys,re; d=json.load(open(sys.argv[1]))['duration']; m=re.match(r'PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?', d); h,mi,s=m.groups(); print(int(h or 0)*3600+int(mi or 0)*60+float(s or 0))" "$work/merge.json")
  merged=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['bytesMerged'])" "$work/merge.json")
  [ "$merged" -eq "$bytes" ] || { echo "bench: merged $merged bytes, expected $bytes" >&2; exit 1; }

  # 3. qemu-img commit of a qcow2 chain holding the same data.
  rm -f "$work"/*.qcow2
  qemu-img create -q -f qcow2 "$work/base.qcow2" "$virtual"
  qemu-img create -q -f qcow2 -b "$work/base.qcow2" -F qcow2 "$work/child.qcow2"
  writes=()
  for ((i = 0; i < chunks; i++)); do writes+=(-c "write -q -s $work/chunk.$i $((i * chunk)) $chunk"); done
  qemu-io -f qcow2 "${writes[@]}" "$work/child.qcow2"
  sync
  t0=$(now); qemu-img commit -q -f qcow2 "$work/child.qcow2"; sync; t1=$(now)
  qemu_s=$(echo "$t1 - $t0" | bc -l)

  copy_rate=$(rate "$bytes" "$copy_s"); merge_rate=$(rate "$bytes" "$merge_s"); qemu_rate=$(rate "$bytes" "$qemu_s")
  wall_rate=$(rate "$bytes" "$merge_wall_s")
  printf 'run %d: copy %s MiB/s | chainmerge %s MiB/s (%s MiB/s with JVM start) | qemu-img commit %s MiB/s\n' \
    "$run" "$copy_rate" "$merge_rate" "$wall_rate" "$qemu_rate"
  summary+=("$(/usr/bin/python3 -c "import sys; c,m,q=map(float,sys.argv[1:]); print('merge/copy %.2f  merge/qemu-img-commit %.2f' % (m/c, m/q))" "$copy_rate" "$merge_rate" "$qemu_rate")")
done
for line in "${summary[@]}"; do echo "ratio: $line"; done
