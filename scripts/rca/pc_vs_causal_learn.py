#!/usr/bin/env python3
"""Checks the rca crate's PC-stable (Fisher-z, Meek's rules) against causal-learn's `pc` on the
same data: CIRCA cases written by `crates/rca/examples/pc_csv.rs`, run through both.

    pip install causal-learn     # once; Python is used here only, never in the build
    python3 scripts/rca/pc_vs_causal_learn.py [--alpha 0.05] [--cases 20:40:1,50:100:1,...]

causal-learn is called as RCAEval and its defaults do: pc(data, alpha, fisherz, stable=True,
uc_rule=0, uc_priority=2), i.e. PC-stable, v-structures from separating sets, existing
colliders take priority. Prints one Markdown row per case: edges found by each, the
skeleton's agreement (shared adjacencies / all adjacencies found by either), the share of
shared adjacencies oriented the same way, and each side's time.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from causallearn.search.ConstraintBased.PC import pc
from causallearn.utils.cit import fisherz

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def example(*args):
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "rca", "--example", "pc_csv", "--"]
    out = subprocess.run(cmd + [str(a) for a in args], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return out.stdout


def parse_edges(text):
    """{frozenset pair: (a, b) directed or None undirected}"""
    edges = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if "->" in line:
            a, b = (int(x) for x in line.split("->"))
            edges[frozenset((a, b))] = (a, b)
        else:
            a, b = (int(x) for x in line.split("--"))
            edges[frozenset((a, b))] = None
    return edges


def causal_learn_edges(g):
    """causal-learn's GeneralGraph matrix: g[j,i] = 1 and g[i,j] = -1 is i -> j; -1 both ways
    is i -- j; 1 both ways is i <-> j (reported as undirected here, marked with '<->')."""
    n = g.shape[0]
    edges, bidirected = {}, 0
    for i in range(n):
        for j in range(i + 1, n):
            a, b = g[i, j], g[j, i]
            if a == 0 and b == 0:
                continue
            if a == -1 and b == 1:
                edges[frozenset((i, j))] = (i, j)
            elif a == 1 and b == -1:
                edges[frozenset((i, j))] = (j, i)
            else:
                edges[frozenset((i, j))] = None
                bidirected += int(a == 1 and b == 1)
    return edges, bidirected


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--cases", default="20:40:1,20:40:2,20:40:3,50:100:1,50:100:2,50:100:3,100:500:1")
    args = p.parse_args()
    print(f"alpha {args.alpha}; causal-learn pc(stable=True, uc_rule=0, uc_priority=2, fisherz)\n")
    print("| case (nodes:edges:seed) | edges, rca | edges, causal-learn | skeleton agreement "
          "| same orientation | rca time | causal-learn time |")
    print("|---|---|---|---|---|---|---|")
    worst = 1.0
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            nodes, n_edges, seed = case.split(":")
            csv = os.path.join(tmp, f"{case.replace(':', '_')}.csv")
            example("circa", nodes, n_edges, seed, csv)
            t0 = time.perf_counter()
            ours = parse_edges(example("pc", csv, args.alpha))
            t_ours = time.perf_counter() - t0
            data = np.loadtxt(csv, delimiter=",", skiprows=1)
            t0 = time.perf_counter()
            cg = pc(data, args.alpha, fisherz, stable=True, uc_rule=0, uc_priority=2,
                    show_progress=False)
            t_theirs = time.perf_counter() - t0
            theirs, bidirected = causal_learn_edges(cg.G.graph)
            union = set(ours) | set(theirs)
            shared = set(ours) & set(theirs)
            agree = len(shared) / len(union) if union else 1.0
            same = sum(1 for k in shared if ours[k] == theirs[k])
            orient = same / len(shared) if shared else 1.0
            worst = min(worst, agree)
            note = f" ({bidirected} bidirected)" if bidirected else ""
            print(f"| {case} | {len(ours)} | {len(theirs)}{note} | {agree:.3f} | {orient:.3f} "
                  f"| {t_ours:.2f} s | {t_theirs:.2f} s |")
    print(f"\nlowest skeleton agreement: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
