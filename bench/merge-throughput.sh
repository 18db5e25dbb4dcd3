#!/usr/bin/env bash
# Merge, --into-new and transplant throughput as a storage host meets them, against baselines run in
# the same rounds on the same volume. The child was written by a VM long ago, so every timed step
# starts from a dropped page cache, and is timed as a whole process (the JVM's start included)
# followed by sync; for merges the engine's own duration (--json) is reported beside it.
#   merge       against dd conv=fsync, dd iflag=direct oflag=direct, qemu-img commit (qcow2) + sync
#   --into-new  against qemu-img convert (qcow2 to a new qcow2) + sync
#   transplant  against cp of the chain's files + sha256sum of the copies + sync
# A child holding SIZE of payload (seeded AES-CTR, incompressible) over an empty dynamic parent.
# --compare LAUNCHER runs the three chainmerge steps with another build too (an older commit's
# ./chainmerge), in the same rounds: before and after in one run.
# Every run makes fresh fixtures and rotates the order of the steps. Ratios are speed ratios (the
# baseline's time / chainmerge's time: above 1, chainmerge is faster), the median of per-run ratios.
# The 1-minute load (uptime) is recorded at every step; a run that starts with the load above
# --max-load (other builds on the machine) is run again, at most --attempts runs in all.
#
# usage: bench/merge-throughput.sh [--format vhdx|vhd] [--size 2G] [--runs 5] [--dir DIR]
#                                  [--compare LAUNCHER] [--max-load 1.5] [--attempts 10] [--out FILE]
# Needs root (to drop the page cache), java, maven, qemu-utils, openssl, GNU time, /usr/bin/python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=2G
dir=""
format=vhdx
runs=5
compare=""
max_load=1.5
attempts=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --compare) compare="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --max-load) max_load="$2"; shift 2 ;;
    --attempts) attempts="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
attempts=${attempts:-$((runs * 2))}
for tool in qemu-img qemu-io openssl /usr/bin/python3 /usr/bin/time sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 2; }
done
case "$format" in
  vhdx) root_ext=vhdx; child_ext=avhdx ;;
  vhd) root_ext=vhd; child_ext=avhd ;;
  *) echo "bench: --format is vhdx or vhd" >&2; exit 2 ;;
esac

# Without a dropped page cache the figures would be a warm cache's, kinder than a user's: refuse.
cold() {
  sync
  if ! { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
    echo "bench: cannot drop the page cache (needs root, and a writable /proc/sys): no figures reported" >&2
    exit 3
  fi
  sleep 2
}
cold

bytes=$(/usr/bin/python3 -c "import sys; s=sys.argv[1].upper().rstrip('B').rstrip('I'); u={'K':1<<10,'M':1<<20,'G':1<<30,'T':1<<40}; print(int(float(s[:-1])*u[s[-1]]) if s[-1] in u else int(s))" "$size")
chunk=$((256 << 20))
(( bytes % chunk == 0 )) || { echo "bench: --size must be a multiple of 256M" >&2; exit 2; }
virtual=$((bytes * 2))

work="${dir:-$(mktemp -d "${TMPDIR:-/tmp}/chainmerge-bench.XXXXXX")}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
new="$here/chainmerge"
cm() { "$new" "$@"; }
load() { cut -d' ' -f1 /proc/loadavg; }
now() { date +%s.%N; }

echo "chainmerge throughput: $size of payload, $format, in $work ($(df -h --output=source,fstype "$work" | tail -1 | tr -s ' '))"
echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB memory; $(cm --version | head -1)${compare:+; compared with $compare}"
[ -z "$compare" ] || "$compare" --version > /dev/null # builds it first, untimed

# Payload: a seeded AES-CTR keystream, incompressible and the same on every run.
# In 256 MiB pieces too: qemu-io writes at most 2 GiB - 512 bytes in one go.
chunks=$((bytes / chunk))
for ((i = 0; i < chunks; i++)); do
  # head closes the pipe once it has its bytes; the keystream's SIGPIPE is expected.
  { openssl enc -aes-128-ctr -nosalt -pass "pass:chainmerge-bench-$i" -pbkdf2 < /dev/zero 2>/dev/null || true; } \
    | head -c "$chunk" > "$work/chunk.$i"
done
for ((i = 0; i < chunks; i++)); do cat "$work/chunk.$i"; done > "$work/payload.bin"
[ "$(stat -c %s "$work/payload.bin")" -eq "$bytes" ] || { echo "bench: payload generation failed" >&2; exit 1; }

# Fixtures for one run. i/: the chain --into-new and cp + sha256sum read (neither changes it); m/ and
# t/ (and m-old/, t-old/ with --compare): copies of it that a merge and a transplant consume; q/: the
# qcow2 chain with the same data (commit -d leaves the child's data in place for convert).
prepare() {
  rm -rf "$work"/{i,m,t,m-old,t-old,q,out}
  mkdir -p "$work"/{i,q,out}
  cm create "$work/i/base.$root_ext" --size "$virtual" >/dev/null
  cm create "$work/i/child.$child_ext" --parent "$work/i/base.$root_ext" >/dev/null
  cm write "$work/i/child.$child_ext" --offset 0 --input "$work/payload.bin" >/dev/null
  for copy in m t ${compare:+m-old t-old}; do
    cp -r "$work/i" "$work/$copy"
    # Each copy's child names its parent by path: point it at its own folder's base.
    cm set-parent "$work/$copy/child.$child_ext" --parent "$work/$copy/base.$root_ext" >/dev/null
  done
  qemu-img create -q -f qcow2 "$work/q/base.qcow2" "$virtual"
  qemu-img create -q -f qcow2 -b "$work/q/base.qcow2" -F qcow2 "$work/q/child.qcow2"
  local writes=()
  for ((i = 0; i < chunks; i++)); do writes+=(-c "write -q -s $work/chunk.$i $((i * chunk)) $chunk"); done
  qemu-io -f qcow2 "${writes[@]}" "$work/q/child.qcow2"
}

# Each step runs after a dropped page cache and prints "seconds engine-seconds peak-RSS-KiB load".
timed() {
  local engine_json="$1"; shift
  local l t0 t1
  cold
  l=$(load)
  t0=$(now)
  /usr/bin/time -f "%M" -o "$work/rss.txt" "$@" > "$work/step.out"
  sync
  t1=$(now)
  local engine="-"
  if [ "$engine_json" = engine ]; then
    engine=$(/usr/bin/python3 - "$work/step.out" "$bytes" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))
if report["bytesMerged"] != int(sys.argv[2]):
    sys.exit("bench: merged %d bytes, expected %s" % (report["bytesMerged"], sys.argv[2]))
h, m, s = re.match(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", report["duration"]).groups()
print("%.3f" % (int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)))
PY
)
  fi
  echo "$(echo "$t1 - $t0" | bc -l) $engine $(tail -1 "$work/rss.txt") $l"
  rm -rf "$work/out" && mkdir -p "$work/out"
}

step_dd_fsync() { timed - dd if="$work/payload.bin" of="$work/out/copy.bin" bs=8M conv=fsync status=none; }
step_dd_direct() { timed - dd if="$work/payload.bin" of="$work/out/copy.bin" bs=8M iflag=direct oflag=direct status=none; }
step_qemu_commit() { timed - qemu-img commit -q -d -f qcow2 "$work/q/child.qcow2"; }
step_qemu_convert() { timed - qemu-img convert -f qcow2 -O qcow2 "$work/q/child.qcow2" "$work/out/flat.qcow2"; }
step_cp_sha256() {
  timed - bash -c "cp '$work/i/child.$child_ext' '$work/i/base.$root_ext' '$work/out/' && sha256sum '$work/out/'* > /dev/null"
}
merge_with() { timed engine "$1" merge "$work/$2/child.$child_ext" --json; }
into_new_with() { timed engine "$1" merge "$work/i/child.$child_ext" --into-new "$work/out/flat.$root_ext" --json; }
transplant_with() {
  mkdir -p "$work/out/moved"
  timed - "$1" transplant "$work/$2/child.$child_ext" "$work/$2/base.$root_ext" --to "$work/out/moved" --json
}
step_merge() { merge_with "$new" m; }
step_into_new() { into_new_with "$new"; }
step_transplant() { transplant_with "$new" t; }
step_merge_old() { merge_with "$compare" m-old; }
step_into_new_old() { into_new_with "$compare"; }
step_transplant_old() { transplant_with "$compare" t-old; }

steps=(dd_fsync dd_direct qemu_commit qemu_convert cp_sha256 merge into_new transplant)
[ -z "$compare" ] || steps+=(merge_old into_new_old transplant_old)
results="$work/results.tsv"
: > "$results"
good=0
for ((attempt = 1; attempt <= attempts && good < runs; attempt++)); do
  # Wait a while (BENCH_LOAD_WAIT seconds, default 120) for other work on the machine to pass.
  for _ in $(seq 1 $(( ${BENCH_LOAD_WAIT:-120} / 5 ))); do
    [ "$(echo "$(load) <= $max_load" | bc -l)" -eq 1 ] && break
    sleep 5
  done
  start_load=$(load)
  prepare
  n=${#steps[@]}
  for ((k = 0; k < n; k++)); do
    step=${steps[$(((attempt - 1 + k) % n))]}
    read -r seconds engine rss step_load < <("step_$step")
    printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$attempt" "$start_load" "$step" "$seconds" "$engine" "$rss" "$step_load" >> "$results"
    printf 'run %d (load at start %s): %-16s %6.2f s  engine %6s s  peak RSS %4d MiB  load %s\n' \
      "$attempt" "$start_load" "$step" "$seconds" "$engine" $((rss / 1024)) "$step_load"
  done
  if [ "$(echo "$start_load <= $max_load" | bc -l)" -eq 1 ]; then
    good=$((good + 1))
  else
    echo "run $attempt started with load $start_load > $max_load: run again"
  fi
done
[ -z "$out" ] || cp "$results" "$out"
/usr/bin/python3 - "$results" "$max_load" "$runs" "$format" "$size" <<'PY'
import collections, statistics, sys
path, max_load, wanted, fmt, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
runs = collections.defaultdict(dict)
start = {}
for line in open(path):
    attempt, start_load, step, seconds, engine, rss, load = line.split("\t")
    runs[int(attempt)][step] = (float(seconds), None if engine == "-" else float(engine), int(rss), float(load))
    start[int(attempt)] = float(start_load)
quiet = [a for a in runs if start[a] <= max_load]
used = quiet if len(quiet) >= wanted else sorted(runs)
if used is not quiet:
    print("WARNING: only %d of %d runs started with load <= %.1f; the figures below include loaded runs"
          % (len(quiet), len(runs), max_load))
print("%s, %s: %d runs (start loads %s)" % (fmt, size, len(used), ", ".join("%.2f" % start[a] for a in used)))
order = ["dd_fsync", "dd_direct", "qemu_commit", "qemu_convert", "cp_sha256", "merge", "into_new", "transplant",
         "merge_old", "into_new_old", "transplant_old"]
steps = [s for s in order if any(s in runs[a] for a in used)]
print("%-16s %10s %10s %10s %14s" % ("step", "median s", "engine s", "peak RSS", "loads"))
for s in steps:
    rows = [runs[a][s] for a in used if s in runs[a]]
    eng = [r[1] for r in rows if r[1] is not None]
    print("%-16s %10.2f %10s %7d MiB %14s" % (
        s, statistics.median(r[0] for r in rows), "%.2f" % statistics.median(eng) if eng else "-",
        max(r[2] for r in rows) // 1024, "%.1f-%.1f" % (min(r[3] for r in rows), max(r[3] for r in rows))))
def ratio(base, step, engine=False):
    values = []
    for a in used:
        if base in runs[a] and step in runs[a]:
            t = runs[a][step][1] if engine else runs[a][step][0]
            if t is not None:
                values.append(runs[a][base][0] / t)
    return "%.2f" % statistics.median(values) if values else "-"
print("speed ratios, median of per-run ratios (baseline's time / chainmerge's time; above 1 chainmerge is faster):")
for label, base, step in [
        ("merge vs dd conv=fsync", "dd_fsync", "merge"),
        ("merge vs dd direct", "dd_direct", "merge"),
        ("merge vs qemu-img commit", "qemu_commit", "merge"),
        ("--into-new vs qemu-img convert", "qemu_convert", "into_new"),
        ("transplant vs cp + sha256sum", "cp_sha256", "transplant")]:
    line = "  %-32s process+sync %s" % (label, ratio(base, step))
    if step != "transplant":
        line += "   engine %s" % ratio(base, step, engine=True)
    if step + "_old" in steps:
        line += "   | before (--compare) process+sync %s" % ratio(base, step + "_old")
    print(line)
for step in ("merge", "into_new", "transplant"):
    if step + "_old" in steps:
        print("  %-32s %s" % (step + ": before's time / after's", ratio(step + "_old", step)))
PY
