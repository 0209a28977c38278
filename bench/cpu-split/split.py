"""Cores used by each process group in each throughput phase, from run.sh's samples.

A phase is the 5 s (--seconds) before the load generator's line reporting it; a process's CPU is the difference of
its cumulative utime+stime between the last samples before the phase's start and its end, so a process that
started or ended inside the phase is left out rather than counted wrong.
"""
import bisect
import collections
import re
import sys

out, ticks_per_second = sys.argv[1], int(sys.argv[2])
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
groups = ["pilotage", "postgres", "upstream", "yarp", "load"]

samples = collections.defaultdict(dict)  # time -> "group:pid" -> ticks
for line in open(f"{out}/samples"):
    parts = line.split()
    if len(parts) == 3 and parts[2].isdigit():
        samples[float(parts[0])][parts[1]] = int(parts[2])
times = sorted(samples)


def before(t):
    i = bisect.bisect_right(times, t) - 1
    return times[i] if i >= 0 else None


print("| round | target | req/s | " + " | ".join(f"{g} cores" for g in groups) + " | total | target's CPU µs per request |")
print("|---|---|---:|" + "---:|" * (len(groups) + 2))
for line in open(f"{out}/phases"):
    m = re.match(r"(\S+)\s+round (\d+) (\S+)\s+\d+ workers: (\d+) req/s", line)
    if not m:
        continue
    end, rnd, target, rps = float(m.group(1)), m.group(2), m.group(3), int(m.group(4))
    t0, t1 = before(end - seconds), before(end)
    if t0 is None or t1 is None or t1 <= t0:
        continue
    cores = {}
    for g in groups:
        a, b = samples[t0], samples[t1]
        used = sum(b[k] - a[k] for k in b if k in a and k.startswith(g + ":"))
        cores[g] = used / ticks_per_second / (t1 - t0)
    own = cores["pilotage"] if target.startswith("pilotage") else cores["yarp"] if target == "yarp" else cores["upstream"]
    print(f"| {rnd} | {target} | {rps:,} | " + " | ".join(f"{cores[g]:.2f}" for g in groups)
          + f" | {sum(cores.values()):.2f} | {own / rps * 1e6:.0f} |")
