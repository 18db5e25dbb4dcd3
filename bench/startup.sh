#!/usr/bin/env bash
# Start-up of the command line: `./chainmerge --version`, the launcher's checks and the JVM's start
# included, timed as whole processes (warm page cache: the second command of a session), and the
# launcher's up-to-date check alone. With --compare LAUNCHER another build's launcher runs in the
# same loop, alternating, so both meet the same machine.
#
# usage: bench/startup.sh [--runs 20] [--compare LAUNCHER]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=20
compare=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --compare) compare="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
launchers=("$here/chainmerge")
[ -z "$compare" ] || launchers+=("$compare")
for launcher in "${launchers[@]}"; do
  "$launcher" --version > /dev/null # builds it, and makes its class-data archive, untimed
done
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((run = 1; run <= runs; run++)); do
  for launcher in "${launchers[@]}"; do
    t0=$(date +%s%N)
    "$launcher" --version > /dev/null
    t1=$(date +%s%N)
    printf '%s\t%s\t%s\n' "$launcher" $(((t1 - t0) / 1000)) "$(cut -d' ' -f1 /proc/loadavg)" >> "$results"
  done
done
# The launcher's own check, without the JVM: the find it runs when the jar exists.
t0=$(date +%s%N)
for ((run = 1; run <= runs; run++)); do
  find "$here" \( -name target -o -name .git -o -name node_modules -o -path "$here/bench" -o -path '*/src/test' \) -prune \
    -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$here/cli/target/chainmerge.jar" -print -quit > /dev/null
done
t1=$(date +%s%N)
echo "the launcher's up-to-date check: $(((t1 - t0) / runs / 1000)) µs on average"
/usr/bin/python3 - "$results" <<'PY'
import collections, statistics, sys
times, loads = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    launcher, micros, load = line.split("\t")
    times[launcher].append(int(micros) / 1e6)
    loads[launcher].append(float(load))
for launcher, values in times.items():
    print("%s --version: median %.3f s, min %.3f s, max %.3f s over %d runs (load %.1f-%.1f)" % (
        launcher, statistics.median(values), min(values), max(values), len(values),
        min(loads[launcher]), max(loads[launcher])))
PY
