#!/usr/bin/env python3
"""Prints markdown tables (throughput against load factor) from a bench_single_value_map JSON file.

usage: scripts/bench_table.py bench_single_value_map.json [counter]
  counter: Gkeys_per_s (default), ratio_vs_absl, ratio_vs_std, ratio_to_gather, ratio_to_cas
"""
import json
import sys
from collections import defaultdict


def main(src, counter):
    with open(src) as f:
        data = json.load(f)
    rows = defaultdict(dict)
    loads = set()
    for b in data["benchmarks"]:
        parts = b["name"].split("/")
        if parts[0] != "svm" or b.get("error_occurred") or counter not in b:
            continue
        backend, types, scheme, op, load = parts[1], parts[2], parts[3], parts[4], parts[5].split(":")[1]
        rows[(backend, types, op, scheme)][load] = b[counter]
        loads.add(load)
    loads = sorted(loads, key=float)
    ctx = data.get("context", {})
    print(f"{counter} — {ctx.get('date', '')}, host {ctx.get('host_name', '')}, "
          f"{ctx.get('num_cpus', '')} CPUs; roofline: copy {ctx.get('roofline_copy_GBps', 'n/a')} GB/s, "
          f"gather {ctx.get('roofline_gather_Gps', 'n/a')} G/s, CAS {ctx.get('roofline_cas_Gps', 'n/a')} G/s\n")
    print("| backend | keys/values | operation | scheme | " + " | ".join(f"load {l}" for l in loads) + " |")
    print("|---|---|---|---|" + "---|" * len(loads))
    for (backend, types, op, scheme), by_load in sorted(rows.items()):
        cells = [f"{by_load[l]:.3f}" if l in by_load else "" for l in loads]
        print(f"| {backend} | {types} | {op} | {scheme} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "Gkeys_per_s")
