#!/usr/bin/python3
"""Draws kv_replay's --timeline CSV (capacity,requests,window_hit_rate,hit_rate): the block hit
rate over the trace for each cache size. Usage: plot_kv_replay.py TIMELINE.csv OUT.png [TITLE]
(Debian python3 with python3-matplotlib.)"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    series = {}
    with open(sys.argv[1]) as f:
        for row in csv.DictReader(f):
            series.setdefault(row["capacity"], []).append((int(row["requests"]), float(row["window_hit_rate"]),
                                                           float(row["hit_rate"])))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for capacity, points in series.items():
        label = "unbounded" if capacity == "inf" else f"{int(capacity):,} blocks"
        x = [p[0] for p in points]
        left.plot(x, [100 * p[1] for p in points], label=label)
        right.plot(x, [100 * p[2] for p in points], label=label)
    left.set_title("hit rate per interval")
    right.set_title("cumulative hit rate")
    for ax in (left, right):
        ax.set_xlabel("requests replayed")
        ax.grid(alpha=0.3)
    left.set_ylabel("blocks that were prefix hits (%)")
    right.legend()
    if len(sys.argv) > 3:
        fig.suptitle(sys.argv[3])
    fig.tight_layout()
    fig.savefig(sys.argv[2] + ".tmp.png", dpi=110)
    import os
    os.replace(sys.argv[2] + ".tmp.png", sys.argv[2])


if __name__ == "__main__":
    main()
