#!/usr/bin/env bash
# The Kafka benchmark: job round trip through a worker vs a bare produce->consume round trip, and campaign
# throughput vs bare echo throughput, measured side by side on one broker in one run.
# Usage: bench/kafka.sh [round-trips (default 1000)] [campaign jobs (default 10000)] [workers (default 8)]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
(cd "$top" && mvn -q -B -ntp -DskipTests package -pl cli -am) >&2
target="$top/cli/target"
cp="$target/chainmerge.jar:$target/lib/*:$target/broker/*"
out="$here/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/classes"
javac -nowarn -d "$out/classes" -cp "$cp" "$here"/src/io/chainmerge/bench/*.java

# The broker runs in its own JVM, as in the demo, so its work and garbage do not share the measured JVM.
mkfifo "$out/broker.in"
java -Xmx1g -XX:+UseSerialGC -cp "$cp" \
  io.chainmerge.broker.BrokerMain "$out/kafka" < "$out/broker.in" > "$out/broker.out" 2> "$out/broker.log" &
broker=$!
exec 3> "$out/broker.in"
trap 'exec 3>&-; wait "$broker" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q '^BOOTSTRAP ' "$out/broker.out" 2>/dev/null && break; sleep 0.5; done
bootstrap="$(sed -n 's/^BOOTSTRAP //p' "$out/broker.out")"
[ -n "$bootstrap" ] || { echo "the broker did not start; see $out/broker.log" >&2; exit 1; }

java -Xmx3g -cp "$out/classes:$cp" io.chainmerge.bench.KafkaBench \
  "$bootstrap" "$out" "${1:-1000}" "${2:-10000}" "${3:-8}" | tee "$out/results.md"
echo "results in $out/results.md" >&2
