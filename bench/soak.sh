#!/usr/bin/env bash
# The soak: rounds of merge campaigns over a generated fleet on the embedded system (a broker, two coordinator
# replicas, two workers, each a process of its own) while workers, coordinators and the broker are SIGKILLed at
# random (seeded) and started again; every chain is verified by content after each round. Prints the totals and
# exits non-zero on any byte lost, any job run twice or any round that did not finish.
# Usage: bench/soak.sh --minutes N [--seed S]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
# MVN_FLAGS: extra Maven flags, e.g. -o on a machine without network.
(cd "$top" && mvn ${MVN_FLAGS:-} -q -B -ntp -DskipTests package -pl cli -am) >&2
target="$top/cli/target"
out="$here/out/soak-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(uptime)" | tee "$out/results.md"
set +e
java -Xmx512m -cp "$target/test-classes:$target/chainmerge.jar:$target/lib/*:$target/broker/*" \
  io.chainmerge.cli.Soak "$@" --work "$out" --jar "$target/chainmerge.jar" | tee -a "$out/results.md"
status=${PIPESTATUS[0]}
echo "results in $out/results.md; the daemons' logs beside it" >&2
exit "$status"
