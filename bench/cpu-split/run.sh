#!/usr/bin/env bash
# CPU by process during one gateway benchmark pass: how the two cores are shared between Pilotage, its database
# server, the upstream, YARP and the load generator in each throughput phase.
# Usage: bench/cpu-split/run.sh [sqlite|postgres]   (postgres needs PILOTAGE_BENCH_POSTGRES, as the benchmark does)
# Samples utime+stime of each process from /proc every 0.5 s; split.py turns the samples into cores per phase.
set -euo pipefail
store="${1:-sqlite}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CPU_SPLIT_OUT:-$root/artifacts/cpu-split}"
rm -rf "$out" && mkdir -p "$out"
dotnet build -c Release "$root/bench/Pilotage.Bench.Gateway" > "$out/build.log"
dll="$root/bench/Pilotage.Bench.Gateway/bin/Release/net10.0/Pilotage.Bench.Gateway.dll"

# The load generator reports each phase on standard error when it ends: stamp those lines with the time.
dotnet "$dll" --store "$store" > "$out/report.md" 2> >(while IFS= read -r line; do echo "$(date +%s.%N) $line"; done > "$out/phases") &
bench=$!
while kill -0 "$bench" 2>/dev/null; do
  now=$(date +%s.%N)
  for pid in $(pgrep -f "Pilotage.Bench.Gateway.dll" || true); do
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
    case "$args" in *--load*) group=load ;; *--servers*) group=upstream ;; *--yarp-for*) group=yarp ;; *) group=pilotage ;; esac
    ticks=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || true)
    [ -n "$ticks" ] && echo "$now $group:$pid $ticks"
  done
  for pid in $(pgrep -u postgres || true); do
    ticks=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || true)
    [ -n "$ticks" ] && echo "$now postgres:$pid $ticks"
  done
  sleep 0.5
done > "$out/samples"
wait "$bench"
python3 "$here/split.py" "$out" "$(getconf CLK_TCK)"
