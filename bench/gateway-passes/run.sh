#!/usr/bin/env bash
# Several passes of the gateway benchmark, then one verdict across them: single passes on a shared two-core
# machine disagree by more than the targets' margins, so the targets are read as medians over passes, with how many
# passes met each one.
# Usage: bench/gateway-passes/run.sh [passes] [sqlite|postgres|alternate] [benchmark options...]
#   passes     how many (default 5); alternate runs sqlite and postgres in turn (postgres needs PILOTAGE_BENCH_POSTGRES)
#   options    passed to each pass, e.g. --seconds 10
# Reports go to artifacts/gateway-passes/pass-N-STORE.md; aggregate.py prints the verdict (also saved as verdict.md).
set -euo pipefail
passes="${1:-5}"
store="${2:-sqlite}"
shift $(( $# > 2 ? 2 : $# ))
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${GATEWAY_PASSES_OUT:-$root/artifacts/gateway-passes}"
rm -rf "$out" && mkdir -p "$out"
dotnet build -c Release "$root/bench/Pilotage.Bench.Gateway" > "$out/build.log"
dll="$root/bench/Pilotage.Bench.Gateway/bin/Release/net10.0/Pilotage.Bench.Gateway.dll"
for i in $(seq 1 "$passes"); do
  s="$store"
  if [ "$store" = alternate ]; then s=$([ $((i % 2)) -eq 1 ] && echo sqlite || echo postgres); fi
  echo "pass $i of $passes ($s), $(date +%T)" >&2
  dotnet "$dll" --store "$s" "$@" > "$out/pass-$i-$s.md" 2> "$out/pass-$i-$s.log"
done
python3 "$here/aggregate.py" "$out"/pass-*.md | tee "$out/verdict.md"
