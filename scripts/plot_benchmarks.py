#!/usr/bin/python3
"""Renders throughput against load factor, one panel per operation, from a benchmark JSON file.

(Debian python3 with python3-matplotlib.) usage: scripts/plot_benchmarks.py bench_single_value_map.json docs/single_value_map.png
"""
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, dst):
    with open(src) as f:
        data = json.load(f)
    # name: svm/<backend>/<types>/<scheme>/<op>/load:<x>
    series = defaultdict(list)
    baseline = defaultdict(dict)
    for b in data["benchmarks"]:
        parts = b["name"].split("/")
        if parts[0] != "svm" or "error_occurred" in b and b["error_occurred"]:
            continue
        backend, types, scheme, op, load = parts[1], parts[2], parts[3], parts[4], float(parts[5].split(":")[1])
        series[(op, backend, types, scheme)].append((load, b["Gkeys_per_s"]))
        if "absl_Gkeys_per_s" in b:  # the host baseline measured beside it (same keys, one thread)
            baseline[(op, types)][load] = b["absl_Gkeys_per_s"]
    ops = sorted({k[0] for k in series})
    if not ops:
        sys.exit("no svm/ results in " + src)
    fig, axes = plt.subplots(1, len(ops), figsize=(4 * len(ops), 3.5), squeeze=False)
    for ax, op in zip(axes[0], ops):
        for (o, backend, types, scheme), pts in sorted(series.items()):
            if o != op:
                continue
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{backend} {types} {scheme}")
        for (o, types), by_load in sorted(baseline.items()):
            if o != op:
                continue
            pts = sorted(by_load.items())
            ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle="--", color="black" if types.startswith("u32") else "gray",
                    label=f"absl::flat_hash_map {types}")
        ax.set_title(op)
        ax.set_xlabel("load factor")
        ax.set_ylabel("G keys/s")
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(dst, dpi=120)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
