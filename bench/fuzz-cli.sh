#!/usr/bin/env bash
# The command line under mutation, longer than CI runs it: CliFuzzTest with N mutants of a VHDX and of a
# VHD chain, from seed S. A finding fails the run and names the mutant, its damage and the command;
# run it again with the same seed to reproduce it (docs/fuzzing.md).
#
# usage: bench/fuzz-cli.sh [--count 500] [--seed 1]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count=500
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cd "$here"
start=$(date +%s)
if mvn -B -q -ntp -pl cli -am test -Dspotless.apply.skip=true -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest=CliFuzzTest -Dchainmerge.fuzz.count="$count" -Dchainmerge.fuzz.seed="$seed"; then
  printf 'fuzz-cli: %d mutants of each format from seed %d, no finding, in %d s\n' "$count" "$seed" $(( $(date +%s) - start ))
else
  echo "fuzz-cli: findings (seed $seed): cli/target/surefire-reports/io.chainmerge.cli.CliFuzzTest.txt;" \
    "the mutants are kept in cli/target/fuzz-findings/" >&2
  exit 1
fi
