#!/usr/bin/env python3
"""Markdown table from grep11-bench CSV files: mean ops/s of each target per
operation and thread count over the rounds, their ratio (first target /
second), and the median p50 latency. Usage: bench-table.py FILE.csv..."""
import csv
import statistics
import sys
from collections import OrderedDict


def main(paths):
    rows = OrderedDict()  # (op, threads) -> {target: [(ops, p50), ...]}
    order = []
    for path in paths:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                key = (r["op"], int(r["threads"]))
                per = rows.setdefault(key, OrderedDict())
                per.setdefault(r["target"], []).append((float(r["ops_per_s"]), float(r["p50_us"])))
                if r["target"] not in order:
                    order.append(r["target"])
    a, b = (order + [None, None])[:2]
    print(f"| operation | threads | {a} ops/s | {b} ops/s | ratio | {a} p50 µs | {b} p50 µs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (op, thr), per in rows.items():
        def ops(t):
            return statistics.mean(x[0] for x in per[t]) if t in per else None

        def p50(t):
            return statistics.median(x[1] for x in per[t]) if t in per else None

        oa, ob = ops(a), ops(b)
        ratio = f"{oa / ob:.2f}" if oa and ob else "–"
        fmt = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"
        print(f"| {op} | {thr} | {fmt(oa)} | {fmt(ob)} | {ratio} | {fmt(p50(a), 0)} | {fmt(p50(b), 0)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
