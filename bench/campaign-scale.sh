#!/usr/bin/env bash
# The campaign-scale benchmark: campaigns of growing size against the engine alone on the same jobs, the
# coordinator's CPU time per result and heap after each, a cold restart over a large history, and a standby
# taking over from a killed leader; on one broker in one run. The coordinator runs in a JVM of its own.
# Usage: bench/campaign-scale.sh [sizes (default 1000,10000,100000; 0 skips)] [workers (default 8)]
#          [history jobs (default 1000000; 0 skips)] [takeover jobs (default 4000; 0 skips)]
#          [minutes a campaign may take before it is cut short (default 60)]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
if [ -z "${CHAINMERGE_BENCH_NO_BUILD:-}" ]; then
  (cd "$top" && mvn -q -B -ntp -o -DskipTests package -pl cli -am) >&2
fi
target="$top/cli/target"
cp="$target/chainmerge.jar:$target/lib/*:$target/broker/*"
out="$here/out/scale-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/classes"
javac -nowarn -d "$out/classes" -cp "$cp" "$here"/src/io/chainmerge/bench/*.java

# The broker runs in its own JVM, as in the demo, so its work and garbage do not share the measured JVMs.
mkfifo "$out/broker.in"
java -Xmx1g -XX:+UseSerialGC -cp "$cp" \
  io.chainmerge.broker.BrokerMain "$out/kafka" < "$out/broker.in" > "$out/broker.out" 2> "$out/broker.log" &
broker=$!
exec 3> "$out/broker.in"
trap 'exec 3>&-; wait "$broker" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q '^BOOTSTRAP ' "$out/broker.out" 2>/dev/null && break; sleep 0.5; done
bootstrap="$(sed -n 's/^BOOTSTRAP //p' "$out/broker.out")"
[ -n "$bootstrap" ] || { echo "the broker did not start; see $out/broker.log" >&2; exit 1; }

{
  echo "conditions: $(nproc) cores, $(uptime), commit $(cd "$top" && git rev-parse --short HEAD)$(cd "$top" && git diff --quiet HEAD -- coordinator || echo ' (coordinator changed since)')"
  echo
  java -Xmx3g -cp "$out/classes:$cp" io.chainmerge.bench.CampaignScaleBench \
    "$bootstrap" "$out" "$out/classes:$cp" "${1:-1000,10000,100000}" "${2:-8}" "${3:-1000000}" "${4:-4000}" "${5:-60}"
  echo
  echo "after: $(uptime)"
} | tee "$out/results.md"
echo "results in $out/results.md" >&2
