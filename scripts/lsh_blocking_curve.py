#!/usr/bin/python3
"""Pair completeness against deduplicated |C| for lsh_dedup on the shared entity-resolution data,
over a sweep of the estimated-Jaccard filter: prints a Markdown table and renders a PNG.

(Debian python3; python3-matplotlib for the PNG.)
usage: scripts/lsh_blocking_curve.py BUILD_DIR DATA_DIR OUT.png
"""
import json
import os
import subprocess
import sys
import tempfile

# The configurations documented in docs/lsh.md; the sweep varies --min-estimate.
SETS = [
    ("Abt-Buy", ["--input", "er/abt_buy/abt.csv", "--input2", "er/abt_buy/buy.csv", "--separator", "|",
                 "--id-column", "id", "--columns", "name", "--truth", "er/abt_buy/gt.csv"],
     ["--k", "256", "--bands", "128", "--rows", "2"], 1076 * 1076),
    ("Amazon-Google", ["--input", "er/amazon_google/amazon.csv", "--input2", "er/amazon_google/gp.csv",
                       "--separator", "#", "--id-column", "id", "--columns", "title",
                       "--truth", "er/amazon_google/gt.csv"],
     ["--k", "512", "--bands", "255", "--rows", "2"], 1354 * 3039),
    ("Cora", ["--input", "er/cora/cora.csv", "--separator", "|", "--id-column", "Entity Id", "--columns",
              "author,title", "--truth", "er/cora/gt.csv", "--truth-header", "no"],
     ["--k", "256", "--bands", "128", "--rows", "2"], 1295 * 1294 // 2),
]
THRESHOLDS = [0.0, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def run(tool, data, args, band_args, threshold, metrics):
    cmd = [tool, "--backend", "host", "--shingle", "chars", "--size", "3", "--lowercase", "--min-estimate",
           str(threshold), "--metrics", metrics] + band_args
    cmd += [os.path.join(data, a) if a.startswith("er/") else a for a in args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(metrics) as f:
        return json.load(f)


def main(build, data, png):
    tool = os.path.join(build, "examples", "lsh_dedup")
    curves = {}
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.json")
        print("| data set | min estimated J | distinct pairs |C| | fraction of all pairs | PC | PQ |")
        print("|---|---|---|---|---|---|")
        for name, args, band_args, all_pairs in SETS:
            points = []
            for t in THRESHOLDS:
                m = run(tool, data, args, band_args, t, metrics)
                points.append((m["candidates"], m["pc"]))
                print(f"| {name} | {t:.2f} | {m['candidates']} | {m['candidates'] / all_pairs:.4f} | "
                      f"{m['pc']:.4f} | {m['pq']:.4f} |")
            curves[name] = points
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no PNG", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    marks = {"Abt-Buy": [(237518, 0.9954, "token blocking"), (40400, 0.961, "+ purging, filtering")],
             "Amazon-Google": [(0.025 * 1354 * 3039, 0.98, "Sparkly (BM25 top-k)")]}
    for ax, (name, points) in zip(axes, curves.items()):
        xs, ys = zip(*sorted(points))
        ax.plot(xs, ys, "o-", label="MinHash-LSH (warp), char 3-grams")
        for x, y, label in marks.get(name, []):
            ax.plot([x], [y], "s", label=f"published: {label}")
        ax.set_xscale("log")
        ax.set_xlabel("distinct candidate pairs |C|")
        ax.set_ylabel("pair completeness")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
