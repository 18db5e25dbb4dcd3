#!/usr/bin/env bash
# Merge throughput, measured against two baselines in the same run on the same volume:
#   - a sequential copy of the same payload bytes (dd, flushed): the physical limit;
#   - qemu-img commit of a qcow2 chain holding the same data: the nearest tool on Linux.
# A child holding SIZE of payload (default 2 GiB) over an empty dynamic parent is merged.
# Every run makes fresh fixtures, does one untimed copy, then times the three in a rotated order, each
# after the page cache has drained and the disk has rested (BENCH_SETTLE_SECONDS, default 3); the
# summary gives medians over the runs.
#
# usage: bench/merge-throughput.sh [--size 2G] [--dir DIR] [--format vhdx] [--runs 6]
# Needs: java, maven (to build), qemu-utils, openssl, /usr/bin/python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=2G
dir=""
format=vhdx
runs=6
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
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

# Waits until the machine's page cache holds (almost) no dirty data and the disk has been quiet for a
# moment, so that no measurement pays for the writeback of the step before it.
settle() {
  sync
  for _ in $(seq 1 60); do
    dirty=$(awk '/^(Dirty|Writeback):/ {s += $2} END {print s}' /proc/meminfo)
    [ "$dirty" -lt 4096 ] && break
    sleep 0.5
  done
  sleep "${BENCH_SETTLE_SECONDS:-3}"
}

# Fixtures for one round: the chainmerge chain and the qcow2 chain, both holding the payload.
prepare() {
  rm -f "$work"/base.* "$work"/child.* "$work"/*.qcow2 "$work/copy.bin"
  cm create "$work/base.$root_ext" --size "$virtual" >/dev/null
  cm create "$work/child.$child_ext" --parent "$work/base.$root_ext" >/dev/null
  for ((i = 0; i < chunks; i++)); do
    cm write "$work/child.$child_ext" --offset $((i * chunk)) --input "$work/chunk.$i" >/dev/null
  done
  qemu-img create -q -f qcow2 "$work/base.qcow2" "$virtual"
  qemu-img create -q -f qcow2 -b "$work/base.qcow2" -F qcow2 "$work/child.qcow2"
  local writes=()
  for ((i = 0; i < chunks; i++)); do writes+=(-c "write -q -s $work/chunk.$i $((i * chunk)) $chunk"); done
  qemu-io -f qcow2 "${writes[@]}" "$work/child.qcow2"
}

# Each step prints its rate in MiB/s.
time_copy() {
  local t0 t1
  t0=$(now); dd if="$work/payload.bin" of="$work/copy.bin" bs=8M conv=fsync status=none; t1=$(now)
  rm -f "$work/copy.bin"
  rate "$bytes" "$(echo "$t1 - $t0" | bc -l)"
}
time_merge() {
  # The engine's own duration: the JVM's start is not the merge's.
  cm merge "$work/child.$child_ext" --json > "$work/merge.json" || { cat "$work/merge.json" >&2; exit 1; }
  /usr/bin/python3 - "$work/merge.json" "$bytes" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))
if report["bytesMerged"] != int(sys.argv[2]):
    sys.exit("bench: merged %d bytes, expected %s" % (report["bytesMerged"], sys.argv[2]))
h, m, s = re.match(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", report["duration"]).groups()
seconds = int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)
print("%.0f" % (int(sys.argv[2]) / seconds / 2**20))
PY
}
time_qemu() {
  local t0 t1
  # qemu-img flushes only when it closes the image; the sync makes it as durable as the others.
  t0=$(now); qemu-img commit -q -f qcow2 "$work/child.qcow2"; sync; t1=$(now)
  rate "$bytes" "$(echo "$t1 - $t0" | bc -l)"
}

# Rounds rotate the order of the three steps, so none always runs first on a rested disk.
steps=(copy merge qemu)
results="$work/results.tsv"
: > "$results"
for ((run = 1; run <= runs; run++)); do
  prepare
  # Whichever step came first after the fixtures ran at half speed or less, on this VM whatever the
  # rest: an untimed copy takes that place.
  settle
  time_copy > /dev/null
  declare -A round=()
  for ((k = 0; k < 3; k++)); do
    step=${steps[$(((run - 1 + k) % 3))]}
    settle
    round[$step]=$("time_$step")
  done
  printf 'run %d: copy %s MiB/s | chainmerge %s MiB/s | qemu-img commit %s MiB/s\n' \
    "$run" "${round[copy]}" "${round[merge]}" "${round[qemu]}"
  printf '%s\t%s\t%s\n' "${round[copy]}" "${round[merge]}" "${round[qemu]}" >> "$results"
  unset round
done
/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
copy, merge, qemu = (statistics.median(column) for column in zip(*rows))
print("median of %d runs: copy %.0f MiB/s | chainmerge %.0f MiB/s | qemu-img commit %.0f MiB/s" % (len(rows), copy, merge, qemu))
print("ratio of medians: merge/copy %.2f  merge/qemu-img-commit %.2f" % (merge / copy, merge / qemu))
print("median of per-run ratios: merge/copy %.2f  merge/qemu-img-commit %.2f" % (
    statistics.median(m / c for c, m, q in rows), statistics.median(m / q for c, m, q in rows)))
PY
