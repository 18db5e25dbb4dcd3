#!/usr/bin/env bash
# What a merge does to the VMs on its volume, and what latency pacing gives back.
# A foreground load stands in for the VMs: fio random 4 KiB reads and writes at a fixed rate of IOPS
# (O_DIRECT, one at a time) on a file of the same volume. Measured, in one run on one machine:
#   1. the foreground's p99 latency alone;
#   2. the merge's throughput with the foreground idle: at no limit, then paced (--latency-target);
#   3. the foreground's p99 latency during a merge at no limit, and during a paced merge, and the
#      merge's throughput in each.
# The volume is an ext4 file system on a loop device (direct I/O to its backing file), so the pace reads
# that device's counters; each merge starts from a dropped page cache. `uptime` is recorded with every
# figure: the machine may be shared.
#
# usage: bench/merge-latency.sh [--size 1G] [--iops 150,50] [--target 10ms] [--pause 0]
#                               [--min-rate 8MiB/s] [--dir DIR]
# Needs root (loop device, mount, page cache), java, fio, python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=1G
iops=150,50
target=10ms
pause=0
min_rate=8MiB/s
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --iops) iops="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --pause) pause="$2"; shift 2 ;;
    --min-rate) min_rate="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench: a loop device, a mount and dropping the page cache need root" >&2; exit 2; }
command -v fio > /dev/null || { echo "bench: needs fio (apt-get install fio)" >&2; exit 2; }
bytes=$(numfmt --from=iec "$size")
cm="$here/chainmerge"
work="${dir:-$(mktemp -d "${TMPDIR:-/tmp}/chainmerge-latency.XXXXXX")}"
mkdir -p "$work"
vol="$work/vol"
loop=""
cleanup() {
  [ -n "${fio_pid:-}" ] && kill "$fio_pid" 2> /dev/null || true
  mountpoint -q "$vol" && umount "$vol"
  [ -n "$loop" ] && losetup -d "$loop"
  rm -rf "$work"
}
trap cleanup EXIT

truncate -s $((bytes * 4 + (1 << 30))) "$work/volume.img"
loop=$(losetup -f --show --direct-io=on "$work/volume.img")
mkfs.ext4 -q "$loop"
mkdir -p "$vol"
mount "$loop" "$vol"
head -c "$bytes" /dev/urandom > "$work/payload.bin"
"$cm" --version > /dev/null # builds the jar first, untimed

results="$work/results.tsv"
: > "$results"
load() { uptime | sed 's/.*load average: //'; }
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 2; }

chain() {
  rm -f "$vol"/base.vhdx "$vol"/child.avhdx
  "$cm" create "$vol/base.vhdx" --size $((bytes * 2)) > /dev/null
  "$cm" create "$vol/child.avhdx" --parent "$vol/base.vhdx" > /dev/null
  "$cm" write "$vol/child.avhdx" --offset 0 --input "$work/payload.bin" > /dev/null
  cold
}

# fio in the background until stopped (SIGINT makes it report); its JSON goes to $1.
foreground_start() {
  fio --name=vms --filename="$vol/foreground.dat" --size=512M --rw=randrw --rwmixread=75 --bs=4k \
    --direct=1 --ioengine=psync --rate_iops="$iops" --time_based --runtime=3600 \
    --output-format=json --output="$1" > /dev/null 2>&1 &
  fio_pid=$!
  sleep 5 # laid out and steady before anything is measured
}
foreground_stop() {
  kill -INT "$fio_pid"
  wait "$fio_pid" || true
  fio_pid=""
}

# merge NAME [options...]: merges the chain, appends its payload bytes and seconds (the engine's own).
merge() {
  local name="$1"; shift
  "$cm" merge "$vol/child.avhdx" --json --quiet-period 0s "$@" > "$work/$name.merge.json"
}

# The device's mean service latency (what the pace reads), once a second, into $1, until stopped.
sampler_start() {
  local stat="/sys/block/$(basename "$loop")/stat"
  (
    read -r r _ _ rt w _ _ wt _ < "$stat"
    while sleep 1; do
      read -r r2 _ _ rt2 w2 _ _ wt2 _ < "$stat"
      ios=$((r2 + w2 - r - w)); ms=$((rt2 + wt2 - rt - wt))
      echo "$ios $ms"
      r=$r2; w=$w2; rt=$rt2; wt=$wt2
    done
  ) > "$1" &
  sampler_pid=$!
}
sampler_stop() { kill "$sampler_pid"; wait "$sampler_pid" 2> /dev/null || true; }

record() { # phase, fio json or -, merge json or -, device samples
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(load)" >> "$results"
}

# Prepared once so that fio's file exists before the first figure.
fio --name=layout --filename="$vol/foreground.dat" --size=512M --rw=write --bs=1M --direct=1 \
  --output-format=terse > /dev/null

echo "volume: ext4 on $loop (direct I/O to $work/volume.img); payload $size; foreground $iops IOPS (read,write)" >&2

paced=(--latency-target "$target" --min-rate "$min_rate")
[ "$pause" != 0 ] && paced+=(--latency-pause "$pause")

cold
foreground_start "$work/alone.fio.json"
sampler_start "$work/alone.device"
sleep 30
sampler_stop
foreground_stop
record alone "$work/alone.fio.json" - "$work/alone.device"

for phase in idle-unlimited idle-paced; do
  chain
  sampler_start "$work/$phase.device"
  if [ "$phase" = idle-paced ]; then merge "$phase" "${paced[@]}"; else merge "$phase"; fi
  sampler_stop
  record "$phase" - "$work/$phase.merge.json" "$work/$phase.device"
done

for phase in busy-unlimited busy-paced; do
  chain
  foreground_start "$work/$phase.fio.json"
  sampler_start "$work/$phase.device"
  if [ "$phase" = busy-paced ]; then merge "$phase" "${paced[@]}"; else merge "$phase"; fi
  sampler_stop
  foreground_stop
  record "$phase" "$work/$phase.fio.json" "$work/$phase.merge.json" "$work/$phase.device"
done

/usr/bin/python3 - "$results" "$target" <<'PY'
import json, re, sys

def fio(path):
    if path == "-":
        return None
    text = open(path).read()
    job = json.loads(text[text.index("{"):])["jobs"][0]
    p99 = lambda side: job[side]["clat_ns"]["percentile"]["99.000000"] / 1e6
    return {"read": p99("read"), "write": p99("write"), "iops": job["read"]["iops"] + job["write"]["iops"],
            "seconds": job["elapsed"]}

def merge(path):
    if path == "-":
        return None
    report = json.load(open(path))
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", report["duration"])
    seconds = int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60 + float(m.group(3) or 0)
    return {"mib_s": report["bytesMerged"] / seconds / 2**20, "seconds": seconds}

def device(path):
    samples = [tuple(map(int, line.split())) for line in open(path) if line.strip()]
    ios = sum(s[0] for s in samples)
    return sum(s[1] for s in samples) / ios if ios else 0.0

rows = {}
for line in open(sys.argv[1]):
    phase, f, m, d, load = line.rstrip("\n").split("\t")
    rows[phase] = (fio(f), merge(m), load)
    parts = [phase, "device await %.2f ms" % device(d)]
    if rows[phase][0]:
        r = rows[phase][0]
        parts.append("foreground p99 read %.2f ms, write %.2f ms (%.0f IOPS over %d s)"
                     % (r["read"], r["write"], r["iops"], r["seconds"]))
    if rows[phase][1]:
        r = rows[phase][1]
        parts.append("merge %.1f MiB/s (%.1f s)" % (r["mib_s"], r["seconds"]))
    parts.append("load %s" % load)
    print(" | ".join(parts))

alone = rows["alone"][0]
for phase in ("busy-unlimited", "busy-paced"):
    f = rows[phase][0]
    print("%s: foreground p99 / alone: read %.2f, write %.2f" % (phase, f["read"] / alone["read"], f["write"] / alone["write"]))
print("paced / unlimited merge throughput, foreground idle: %.2f; foreground busy: %.2f"
      % (rows["idle-paced"][1]["mib_s"] / rows["idle-unlimited"][1]["mib_s"],
         rows["busy-paced"][1]["mib_s"] / rows["busy-unlimited"][1]["mib_s"]))
PY
