#!/usr/bin/python3
"""Draws rmhe_regression's CSV: per image, the mean PSNR of each sub-grid count M (M = 1 is MHE)
with the spread over seeds (sample standard deviation) as error bars, and the gain over M = 1
printed on each bar; rows with M = 1 and a rotation ("1r": every level rotated) are a bar of their
own. Usage: plot_rmhe_regression.py RESULTS.csv OUT.png [TITLE]
(Debian python3 with python3-matplotlib.)"""
import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = {}
    with open(sys.argv[1]) as f:
        for row in csv.DictReader(f):
            m = int(row["subgrids"])
            key = (m, m == 1 and row.get("rotation", "none") != "none")
            runs.setdefault(row["image"], {}).setdefault(key, []).append(float(row["psnr_db"]))
    images = list(runs)
    counts = sorted({m for per in runs.values() for m in per})
    width = 0.8 / len(counts)
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(images)), 4))
    for k, m in enumerate(counts):
        xs, means, sds = [], [], []
        for i, image in enumerate(images):
            values = runs[image].get(m)
            if not values:
                continue
            xs.append(i + (k - (len(counts) - 1) / 2) * width)
            means.append(statistics.mean(values))
            sds.append(statistics.stdev(values) if len(values) > 1 else 0.0)
        label = "MHE (M = 1)" if m == (1, False) else "rotated levels (M = 1)" if m[0] == 1 else f"R-MHE, M = {m[0]}"
        ax.bar(xs, means, width, yerr=sds, capsize=3, label=label)
        for x, image, mean in zip(xs, [im for im in images if runs[im].get(m)], means):
            base = runs[image].get((1, False))
            if m != (1, False) and base:
                ax.text(x, mean, f"{mean - statistics.mean(base):+.2f}", ha="center", va="bottom", fontsize=7)
    low = min(statistics.mean(v) for per in runs.values() for v in per.values())
    ax.set_ylim(bottom=max(0, low - 3))
    ax.set_xticks(range(len(images)))
    ax.set_xticklabels(images)
    ax.set_ylabel("PSNR (dB), mean over seeds")
    ax.set_title(sys.argv[3] if len(sys.argv) > 3 else "2-D image regression, same parameter count for every M")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
