#!/usr/bin/env python3
"""Zero-bubble schedules' gains over 1F1B: published against `mlsim step`.

Published: Qi, Wan, Huang, Lin. "Zero Bubble Pipeline Parallelism". ICLR 2024
(arXiv 2401.10241; sail-sg/zero-bubble-pipeline-parallelism). Table 3 (models and settings:
pure pipeline parallelism on A100 SXM 80GB, up to 4 nodes, sequence length 1,024) and
Table 4 (samples per GPU per second of ZB-2p, ZB-1p, 1F1B and 1F1B-I).

Simulated: the pipeline crate's handcrafted schedules from the same paper, ZB-H1 (1F1B's
activation memory, as ZB-1p; the paper's Table 5 gives ZB-1p the same bubble rate as ZB-H1 in
every setting) and ZB-H2 (up to 2p - 1 micro-batches of activations, the memory class of
ZB-2p), with the optimizer step staggered (the paper's post-validation) for both, against
1F1B with Megatron's synchronous step. The paper's ZB-1p/ZB-2p are schedules found by its
automatic search from profiled times; the crate has only the handcrafted ones.

Every setting runs twice: as modelled (each layer's memory-bound kernels included, the
default) and "before", with `--set memory_bound_ops=false` (matrix multiplications only).

Layers are split with `split: balanced` (the paper gives the first and last stage one layer
fewer to balance the embedding and the loss). `dgx-a100` preset (HDR InfiniBand; the paper
used RoCE), no recomputation, no tensor or data parallelism.

Usage (Python standard library only):

    cargo build --release -p mlsim
    python3 scripts/pipeline/zero_bubble.py [--mlsim target/release/mlsim] [--out FILE.md]
"""

import argparse
import json
import os
import subprocess
import sys
import time

# Table 3: name, layers, heads, hidden, GPUs (= stages), micro-batch size; Table 4: per
# micro-batch count m, samples per GPU per second of (ZB-2p, ZB-1p, 1F1B, 1F1B-I).
MODELS = [
    ("1.5B", 22, 24, 2304, 8, 6, {24: (14.5, 12.9, 11.8, 13.1),
                                  32: (14.8, 13.4, 12.5, 13.4),
                                  64: (14.9, 14.2, 13.6, 13.9)}),
    ("6.2B", 30, 32, 4096, 8, 3, {24: (4.32, 3.88, 3.50, 4.01),
                                  32: (4.35, 4.00, 3.70, 4.08),
                                  64: (4.39, 4.20, 4.03, 4.19)}),
    ("14.6B", 46, 40, 5120, 16, 1, {48: (1.81, 1.61, 1.40, 1.54),
                                    64: (1.83, 1.67, 1.49, 1.59),
                                    128: (1.85, 1.76, 1.64, 1.66)}),
    ("28.3B", 62, 48, 6144, 32, 1, {96: (0.99, 0.87, 0.76, 0.82),
                                    128: (1.00, 0.90, 0.80, 0.85),
                                    256: (1.00, 0.96, 0.88, 0.90)}),
]
SEQ = 1024

SCHEDULES = [
    ("1f1b", ["--set", "optimizer_step=synchronous"]),
    ("zb-h1", ["--set", "optimizer_step=staggered"]),
    ("zb-h2", ["--set", "optimizer_step=staggered"]),
]


def run(mlsim, spec, gpus, mbs, m, schedule, extra):
    cmd = [mlsim, "step", "--model", json.dumps(spec), "--preset", "dgx-a100",
           "--gpus", str(gpus), "--tp", "1", "--pp", str(gpus), "--dp", "1",
           "--micro-batch", str(mbs), "--global-batch", str(mbs * m), "--schedule", schedule,
           "--split", "balanced", "--json"] + extra
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}\nfailed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlsim", default=os.path.join("target", "release", "mlsim"))
    ap.add_argument("--out", help="also write the Markdown table to this file")
    args = ap.parse_args()
    if not os.path.exists(args.mlsim):
        raise SystemExit(f"{args.mlsim} not found: run `cargo build --release -p mlsim`")

    lines = [
        "| Model | GPUs (p) | m | 1F1B published | 1F1B before | 1F1B simulated"
        " | ZB-1p / 1F1B published | ZB-H1 / 1F1B before | ZB-H1 / 1F1B simulated"
        " | ZB-2p / 1F1B published | ZB-H2 / 1F1B before | ZB-H2 / 1F1B simulated"
        " | bubble 1F1B / ZB-H1 / ZB-H2 (sim.) | peak memory 1F1B / ZB-H1 / ZB-H2 (sim.) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    t0 = time.monotonic()
    gaps, gaps_old, runs = [], [], 0
    off = ["--set", "memory_bound_ops=false"]
    for name, layers, heads, hidden, gpus, mbs, rows in MODELS:
        spec = {"layers": layers, "hidden": hidden, "heads": heads, "seq_len": SEQ}
        for m, (zb2p, zb1p, f1b, _f1bi) in rows.items():
            res = {s: run(args.mlsim, spec, gpus, mbs, m, s, extra) for s, extra in SCHEDULES}
            old = {s: run(args.mlsim, spec, gpus, mbs, m, s, extra + off)
                   for s, extra in SCHEDULES}
            runs += 2 * len(SCHEDULES)
            sps = {s: m * mbs / r["step_time_s"] / gpus for s, r in res.items()}
            sps_old = {s: m * mbs / r["step_time_s"] / gpus for s, r in old.items()}
            g1, g2 = sps["zb-h1"] / sps["1f1b"], sps["zb-h2"] / sps["1f1b"]
            o1, o2 = sps_old["zb-h1"] / sps_old["1f1b"], sps_old["zb-h2"] / sps_old["1f1b"]
            p1, p2 = zb1p / f1b, zb2p / f1b
            gaps += [g1 - p1, g2 - p2]
            gaps_old += [o1 - p1, o2 - p2]
            bub = " / ".join(f"{r['breakdown']['bubble_s'] / r['step_time_s']:.3f}"
                             for r in res.values())
            mem = " / ".join(f"{r['peak_mem_bytes'] / 1e9:.0f}" for r in res.values())
            def tput(x):
                return f"{x:.2f} ({100 * (x / f1b - 1):+.0f}%)"

            lines.append(
                f"| {name} | {gpus} | {m} | {f1b:.{1 if f1b >= 10 else 2}f}"
                f" | {tput(sps_old['1f1b'])} | {tput(sps['1f1b'])}"
                f" | {p1:.3f} | {o1:.3f} | {g1:.3f} | {p2:.3f} | {o2:.3f} | {g2:.3f}"
                f" | {bub} | {mem} GB |")
            print(f"{name} m={m}: ZB-H1 {g1:.3f} (pub ZB-1p {p1:.3f}), ZB-H2 {g2:.3f}"
                  f" (pub ZB-2p {p2:.3f})", file=sys.stderr)
    wall = time.monotonic() - t0
    mean_gap = sum(abs(g) for g in gaps) / len(gaps)
    mean_old = sum(abs(g) for g in gaps_old) / len(gaps_old)
    lines.append("")
    lines.append(f"Throughput in samples per GPU per second; gains are throughput ratios."
                 f" Mean absolute difference of the simulated gains from the published ones:"
                 f" {mean_gap:.3f} (largest {max(abs(g) for g in gaps):.3f}; before"
                 f" {mean_old:.3f}, largest {max(abs(g) for g in gaps_old):.3f})."
                 f" Wall time of the {runs} `mlsim step` runs: {wall:.1f} s.")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
