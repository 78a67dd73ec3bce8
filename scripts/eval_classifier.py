#!/usr/bin/python3
"""Leave-one-strain-out evaluation of warp_classifier against Kraken 2, as the field does it.

The 21 complete bacterial genomes of ../shared/data/metagenomics/bacteria_taxonomy/genomes.tsv
(Debian packages ragout-examples, kleborate-examples, bowtie-examples; scripts/install-deps.sh
--evaluation installs them with kraken2 and samtools) get strain nodes under their species
(tax_ids 2000000000 + the genome's row, rank "strain"). Paired reads are simulated from each
genome with wgsim (150 + 150 bases, 1 % sequencing errors, seeded). For each strain X in turn,
both classifiers build a database of every other genome on the same taxonomy, classify X's reads
with the same threads, and are scored at species and genus rank: a read counts as correct when its
assigned taxon lies at or below the rank and under the true species (genus); precision = correct /
(reads assigned at or below the rank), sensitivity = correct / reads, F1, and the unclassified
fraction. Then once with every strain in the database (the easy case). Reads per minute are read
pairs over the classification's wall time (database loading included).

usage: scripts/eval_classifier.py BUILD_DIR DATA_DIR WORK_DIR [--strains N] [--pairs N] [--threads T]
       [--markdown FILE] [--require-f1 X]
  --strains N   leave out only the first N strains (default: all 21)
  --pairs N     read pairs simulated per genome (default 2000)
"""
import argparse
import gzip
import lzma
import os
import shutil
import subprocess
import sys
import time

STRAIN_BASE = 2000000000


def parse_dmp(path):
    for line in open(path):
        line = line.rstrip("\n")
        if line.endswith("\t|"):
            line = line[:-2]
        yield line.split("\t|\t")


class Taxonomy:
    def __init__(self, nodes):
        self.parent, self.rank = {}, {}
        for f in parse_dmp(nodes):
            self.parent[int(f[0])] = int(f[1])
            self.rank[int(f[0])] = f[2]

    def ancestor(self, taxid, rank):
        while taxid in self.parent:
            if self.rank[taxid] == rank:
                return taxid
            if self.parent[taxid] == taxid:
                return None
            taxid = self.parent[taxid]
        return None


def run(cmd, env=None, log=None, output=None):
    start = time.time()
    result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout[-4000:]}")
    if log:
        log.write(f"$ {' '.join(cmd)}\n{result.stdout}\n")
    if output is not None:
        output.append(result.stdout)
    return time.time() - start


def classification_seconds(tool, text):
    """The classification time each tool reports, database loading excluded."""
    import re
    if tool == "warp":
        m = re.search(r"classification: ([0-9.e+-]+) s", text)
    else:  # Kraken 2: "N sequences (X Mbp) processed in 0.320s (...)"
        m = re.search(r"processed in ([0-9.]+)s", text)
    return float(m.group(1)) if m else 0.0


def prepare(data, work, pairs):
    """Taxonomy with strain nodes, one relabelled FASTA per genome, simulated read pairs."""
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(data, "metagenomics/bacteria_taxonomy/genomes.tsv"))
            if l.strip() and not l.startswith("#")]
    tax_dir = os.path.join(work, "taxonomy")
    os.makedirs(tax_dir, exist_ok=True)
    src = os.path.join(data, "metagenomics/bacteria_taxonomy")
    with open(os.path.join(tax_dir, "nodes.dmp"), "w") as nodes, open(os.path.join(tax_dir, "names.dmp"), "w") as names:
        nodes.write(open(os.path.join(src, "nodes.dmp")).read())
        names.write(open(os.path.join(src, "names.dmp")).read())
        for i, (_, _, species, strain) in enumerate(rows):
            nodes.write(f"{STRAIN_BASE + i}\t|\t{species}\t|\tstrain\t|\t\t|\n")
            names.write(f"{STRAIN_BASE + i}\t|\t{strain}\t|\t\t|\tscientific name\t|\n")
    genomes = []
    for i, (package, path, species, strain) in enumerate(rows):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: install {package} (scripts/install-deps.sh --evaluation)")
        ref = os.path.join(work, f"genome{i}.fa")
        if not os.path.exists(ref):
            opener = gzip.open if path.endswith(".gz") else lzma.open if path.endswith(".xz") else open
            with opener(path, "rt") as f, open(ref + ".tmp", "w") as out:
                line = "\n"
                for line in f:
                    out.write(f">kraken:taxid|{STRAIN_BASE + i}|{line[1:].split()[0]}\n" if line.startswith(">") else line)
                # Every file ends with a newline: kraken2-build concatenates its library files, and
                # a last line without one (O395.fasta.gz has that) swallows the next file's header,
                # giving that genome the other one's taxid.
                if not line.endswith("\n"):
                    out.write("\n")
            os.replace(ref + ".tmp", ref)
        r1, r2 = os.path.join(work, f"reads{i}_{pairs}_1.fq"), os.path.join(work, f"reads{i}_{pairs}_2.fq")
        if not os.path.exists(r2):
            run(["wgsim", "-N", str(pairs), "-1", "150", "-2", "150", "-e", "0.01", "-r", "0.001", "-R", "0",
                 "-S", str(11 + i), ref, r1 + ".tmp", r2 + ".tmp"])
            os.replace(r1 + ".tmp", r1)
            os.replace(r2 + ".tmp", r2)
        genomes.append({"row": i, "ref": ref, "r1": r1, "r2": r2, "species": int(species), "strain": strain,
                        "taxid": STRAIN_BASE + i})
    return tax_dir, genomes


def build_warp(tool, tax_dir, refs, db, log):
    return run([tool, "build", "--backend", "host", "--db", db, "--taxonomy", tax_dir] + refs, log=log)


def build_kraken(tax_dir, refs, db, threads, log):
    shutil.rmtree(db, ignore_errors=True)
    os.makedirs(os.path.join(db, "taxonomy"))
    for f in ("nodes.dmp", "names.dmp"):
        shutil.copy(os.path.join(tax_dir, f), os.path.join(db, "taxonomy", f))
    start = time.time()
    for r in refs:
        run(["kraken2-build", "--add-to-library", r, "--db", db, "--no-masking"], log=log)
    run(["kraken2-build", "--build", "--db", db, "--threads", str(threads)], log=log)
    return time.time() - start


def score(output, truth_taxid, tax, truth_species, truth_genus):
    stats = {"reads": 0, "unclassified": 0}
    for rank, want in (("species", truth_species), ("genus", truth_genus)):
        stats[rank] = {"correct": 0, "assigned": 0}
    for line in open(output):
        f = line.split("\t")
        stats["reads"] += 1
        taxid = int(f[2])
        if f[0] == "U" or taxid == 0:
            stats["unclassified"] += 1
            continue
        for rank, want in (("species", truth_species), ("genus", truth_genus)):
            got = tax.ancestor(taxid, rank)
            if got is not None:
                stats[rank]["assigned"] += 1
                stats[rank]["correct"] += got == want
    return stats


def metrics(stats, rank):
    s = stats[rank]
    p = s["correct"] / s["assigned"] if s["assigned"] else 0.0
    r = s["correct"] / stats["reads"] if stats["reads"] else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("data")
    ap.add_argument("work")
    ap.add_argument("--strains", type=int, default=None)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--throughput-pairs", type=int, default=0,
                    help="also classify this many read pairs (drawn from every genome) with every strain in, "
                         "one run per tool, and report whole-run pairs/min at that size")
    ap.add_argument("--require-f1", type=float, default=None,
                    help="exit with status 1 when warp's mean leave-one-out species F1 is below this")
    a = ap.parse_args()
    tool = os.path.join(a.build, "examples", "warp_classifier")
    for needed in (tool, shutil.which("kraken2") or "kraken2", shutil.which("wgsim") or "wgsim"):
        if not os.path.exists(needed):
            sys.exit(f"{needed} is missing (build the examples; scripts/install-deps.sh --evaluation)")
    os.makedirs(a.work, exist_ok=True)
    log = open(os.path.join(a.work, "eval.log"), "w")
    tax_dir, genomes = prepare(a.data, a.work, a.pairs)
    tax = Taxonomy(os.path.join(tax_dir, "nodes.dmp"))
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    rows = []
    cases = [(g, [h for h in genomes if h is not g]) for g in genomes[: a.strains]]
    cases.append((None, genomes))  # every strain in
    for left_out, refs in cases:
        label = f"{left_out['strain']} (left out)" if left_out else "all strains in"
        targets = [left_out] if left_out else genomes
        wdb, kdb = os.path.join(a.work, "warp.db"), os.path.join(a.work, "k2db")
        wbuild = build_warp(tool, tax_dir, [g["ref"] for g in refs], wdb, log)
        kbuild = build_kraken(tax_dir, [g["ref"] for g in refs], kdb, a.threads, log)
        result = {"warp": {"reads": 0, "unclassified": 0, "species": {"correct": 0, "assigned": 0},
                           "genus": {"correct": 0, "assigned": 0}, "seconds": 0.0, "core": 0.0},
                  "kraken2": {"reads": 0, "unclassified": 0, "species": {"correct": 0, "assigned": 0},
                              "genus": {"correct": 0, "assigned": 0}, "seconds": 0.0, "core": 0.0}}
        for g in targets:
            wout, kout = os.path.join(a.work, "warp.out"), os.path.join(a.work, "kraken2.out")
            wtext, ktext = [], []
            wsec = run([tool, "classify", "--backend", "host", "--db", wdb, "--paired", "--output", wout, g["r1"], g["r2"]],
                       env=env, log=log, output=wtext)
            ksec = run(["kraken2", "--db", kdb, "--threads", str(a.threads), "--paired", "--output", kout, g["r1"], g["r2"]],
                       log=log, output=ktext)
            result["warp"]["core"] += classification_seconds("warp", wtext[0])
            result["kraken2"]["core"] += classification_seconds("kraken2", ktext[0])
            genus = tax.ancestor(g["species"], "genus")
            for name, out, sec in (("warp", wout, wsec), ("kraken2", kout, ksec)):
                s = score(out, g["taxid"], tax, g["species"], genus)
                r = result[name]
                r["reads"] += s["reads"]
                r["unclassified"] += s["unclassified"]
                r["seconds"] += sec
                for rank in ("species", "genus"):
                    for k in ("correct", "assigned"):
                        r[rank][k] += s[rank][k]
        result["warp"]["build"], result["kraken2"]["build"] = wbuild, kbuild
        rows.append((label, result))
        w, k = result["warp"], result["kraken2"]
        print(f"{label}: species F1 warp {metrics(w, 'species')[2]:.4f} kraken2 {metrics(k, 'species')[2]:.4f}; "
              f"reads/min warp {w['reads'] / w['seconds'] * 60:.0f} kraken2 {k['reads'] / k['seconds'] * 60:.0f}",
              file=sys.stderr, flush=True)
    lines = ["| case | tool | species precision | species sensitivity | species F1 | genus F1 | unclassified | "
             "pairs/min, whole run | pairs/min, classification | build s |", "|---|---|---|---|---|---|---|---|---|---|"]
    totals = {"warp": [], "kraken2": []}
    for label, result in rows:
        for name in ("warp", "kraken2"):
            r = result[name]
            p, s, f1 = metrics(r, "species")
            gf1 = metrics(r, "genus")[2]
            rate = r["reads"] / r["seconds"] * 60 if r["seconds"] else 0
            core = r["reads"] / r["core"] * 60 if r["core"] else 0
            lines.append(f"| {label} | {name} | {p:.4f} | {s:.4f} | {f1:.4f} | {gf1:.4f} | "
                         f"{r['unclassified'] / r['reads']:.4f} | {rate:,.0f} | {core:,.0f} | {r['build']:.1f} |")
            if label != "all strains in":
                totals[name].append((f1, gf1, r["unclassified"] / r["reads"], rate, core))
    for name in ("warp", "kraken2"):
        t = totals[name]
        if t:
            n = len(t)
            lines.append(f"| **mean, leave-one-out ({n})** | {name} | | | **{sum(x[0] for x in t) / n:.4f}** | "
                         f"{sum(x[1] for x in t) / n:.4f} | {sum(x[2] for x in t) / n:.4f} | {sum(x[3] for x in t) / n:,.0f} | "
                         f"{sum(x[4] for x in t) / n:,.0f} | |")
    if a.throughput_pairs:
        # One larger sample, as a user classifies a sequencing run: the all-strains databases that
        # the last case left in place, one run per tool over reads drawn from every genome.
        per = max(1, a.throughput_pairs // len(genomes))
        mix = [os.path.join(a.work, f"mix{per}_{m}.fq") for m in (1, 2)]
        if not os.path.exists(mix[1]):
            with open(mix[0] + ".tmp", "w") as o1, open(mix[1] + ".tmp", "w") as o2:
                for g in genomes:
                    r1, r2 = mix[0] + f".{g['row']}", mix[1] + f".{g['row']}"
                    run(["wgsim", "-N", str(per), "-1", "150", "-2", "150", "-e", "0.01", "-r", "0.001", "-R", "0",
                         "-S", str(1000 + g["row"]), g["ref"], r1, r2])
                    o1.write(open(r1).read())
                    o2.write(open(r2).read())
                    os.remove(r1)
                    os.remove(r2)
            os.replace(mix[0] + ".tmp", mix[0])
            os.replace(mix[1] + ".tmp", mix[1])
        pairs = per * len(genomes)
        lines += ["", f"Whole runs on {pairs:,} read pairs drawn from all {len(genomes)} genomes, every strain in the "
                  "database (database loading included):", "",
                  "| tool | seconds, whole run | pairs/min, whole run | pairs/min, classification |", "|---|---|---|---|"]
        for name in ("warp", "kraken2"):
            out = os.path.join(a.work, f"{name}.mix.out")
            text = []
            if name == "warp":
                sec = run([tool, "classify", "--backend", "host", "--db", os.path.join(a.work, "warp.db"), "--paired",
                           "--output", out] + mix, env=env, log=log, output=text)
            else:
                sec = run(["kraken2", "--db", os.path.join(a.work, "k2db"), "--threads", str(a.threads), "--paired",
                           "--output", out] + mix, log=log, output=text)
            core = classification_seconds(name, text[0])
            lines.append(f"| {name} | {sec:.2f} | {pairs / sec * 60:,.0f} | {pairs / core * 60 if core else 0:,.0f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table)
    if a.require_f1 is not None and totals["warp"]:
        mean_f1 = sum(x[0] for x in totals["warp"]) / len(totals["warp"])
        if mean_f1 < a.require_f1:
            sys.exit(f"warp's mean leave-one-out species F1 {mean_f1:.4f} is below {a.require_f1}")


if __name__ == "__main__":
    main()
