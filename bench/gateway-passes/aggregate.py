#!/usr/bin/env python3
"""The issue's targets read across several gateway benchmark passes: the median over passes, the range, and how
many passes met each target. Usage: aggregate.py pass-1.md pass-2.md ... (reports of Pilotage.Bench.Gateway)."""
import re
import statistics
import sys


def cells(line):
    return [c.strip() for c in line.strip().strip('|').split('|')]


def table_after(text, heading):
    """Rows of the first markdown table after the line starting with heading, keyed by their first cell."""
    start = text.find(heading)
    if start < 0:
        return {}
    rows, seen_table = {}, False
    for line in text[start:].splitlines()[1:]:
        if line.startswith('|'):
            seen_table = True
            row = cells(line)
            if row[0] not in ('target', 'round', 'phase') and not row[0].startswith('---'):
                rows[row[0]] = row
        elif seen_table:
            break
    return rows


def num(cell):
    return float(re.sub(r'[^0-9.+-]', '', cell.split('/')[0]) or 'nan')


def second(cell):
    return num(cell.split('/')[1])


def parse_section(text):
    fixed = table_after(text, 'Fixed rate')
    inside = table_after(text, 'Inside the')
    tput = table_after(text, 'Maximum throughput')
    memory = table_after(text, 'Pilotage process memory')
    premium = table_after(text, 'Durable premium')
    gen2 = re.search(r'of which (\d+) while requests were timed', text)
    p = {
        'yarp_p99': num(fixed['yarp'][6]),
        'async_p50': num(fixed['pilotage-async'][5]),
        'async_p99': num(fixed['pilotage-async'][6]),
        'durable_p99': num(fixed['pilotage-durable'][6]),
        'async_ratio': num(tput['pilotage-async'][3]),
        'durable_ratio': num(tput['pilotage-durable'][3]),
        'memory_max': max(second(r[1]) if '/' in r[1] else num(r[1]) for r in memory.values()),
        'premium': num(premium['median'][1]),
        'commit_p99': num(premium['median'][3]),
        'gen2_during': int(gen2.group(1)) if gen2 else None,
    }
    busy = premium['median'][6] if len(premium['median']) > 8 else ''
    p['busy'] = num(busy) if busy else float('nan')
    for name, key in (('pilotage-async', 'async'), ('yarp', 'yarp')):
        if name in inside:
            p[key + '_own'] = num(inside[name][5])
            p[key + '_outside'] = num(inside[name][4])
    return p


def passes(paths):
    for path in paths:
        text = open(path, encoding='utf-8').read()
        for part in re.split(r'^## ', text, flags=re.M)[1:]:
            store = part.split(':', 1)[0].strip()
            if store in ('SQLite', 'PostgreSQL') and 'Fixed rate' in part:
                yield store, path, parse_section(part)


def summary(values, unit='', fmt='{:+.2f}'):
    values = [v for v in values if v == v]
    if not values:
        return 'n/a'
    return f"{fmt.format(statistics.median(values))}{unit} ({fmt.format(min(values))} to {fmt.format(max(values))})"


def main(paths):
    by_store = {}
    for store, path, p in passes(paths):
        by_store.setdefault(store, []).append(p)
    for store, ps in by_store.items():
        n = len(ps)
        met = lambda test: f"{sum(1 for p in ps if test(p))} of {n}"
        print(f"## {store}: {n} passes (median over passes, range in brackets)\n")
        print('| target | measured | passes that met it |')
        print('|---|---|---:|')
        print(f"| async ≥ 70 % of YARP's throughput | {summary([p['async_ratio'] for p in ps], fmt='{:.2f}')} | {met(lambda p: p['async_ratio'] >= 0.70)} |")
        print(f"| async adds ≤ 1 ms at p99 | {summary([p['async_p99'] for p in ps], ' ms')} | {met(lambda p: p['async_p99'] <= 1.0)} |")
        print(f"| durable adds ≤ one group-commit interval at p99 (premium over async against the phase's commit p99) | {summary([p['premium'] for p in ps], ' ms')} against {summary([p['commit_p99'] for p in ps], ' ms', '{:.2f}')} | {met(lambda p: p['premium'] <= p['commit_p99'])} |")
        print(f"| … within two intervals (the commit in progress, then its own) | | {met(lambda p: p['premium'] <= 2 * p['commit_p99'])} |")
        print(f"| steady-state memory ≤ 250 MB | {summary([p['memory_max'] for p in ps], ' MB', '{:.0f}')} | {met(lambda p: p['memory_max'] <= 250)} |")
        print()
        print('| context | median over passes (range) |')
        print('|---|---|')
        print(f"| YARP added p99 | {summary([p['yarp_p99'] for p in ps], ' ms')} |")
        print(f"| async added p99 − YARP added p99 | {summary([p['async_p99'] - p['yarp_p99'] for p in ps], ' ms')} |")
        print(f"| async added p50 | {summary([p['async_p50'] for p in ps], ' ms')} |")
        print(f"| server − upstream call, p50 (the proxy's own work): Pilotage async / YARP | {summary([p.get('async_own', float('nan')) for p in ps], ' ms')} / {summary([p.get('yarp_own', float('nan')) for p in ps], ' ms')} |")
        print(f"| client − server, p99 (outside the handler): Pilotage async / YARP | {summary([p.get('async_outside', float('nan')) for p in ps], ' ms')} / {summary([p.get('yarp_outside', float('nan')) for p in ps], ' ms')} |")
        print(f"| durable added p99 | {summary([p['durable_p99'] for p in ps], ' ms')} |")
        print(f"| durable throughput vs YARP | {summary([p['durable_ratio'] for p in ps], fmt='{:.2f}')} |")
        print(f"| writer busy in the durable fixed-rate phase | {summary([p['busy'] for p in ps], ' %', '{:.1f}')} |")
        print(f"| blocking gen2 during requests, all passes | {sum(p['gen2_during'] or 0 for p in ps)} |")
        print()


if __name__ == '__main__':
    main(sys.argv[1:])
