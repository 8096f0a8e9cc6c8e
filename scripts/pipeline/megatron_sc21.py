#!/usr/bin/env python3
"""Megatron-LM's weak-scaling table against `mlsim step`.

Runs `mlsim step --json` for every row of Table 1 of

    D. Narayanan, M. Shoeybi, J. Casper, P. LeGresley, M. Patwary, V. Korthikanti,
    D. Vainbrand, P. Kashinkunti, J. Bernauer, B. Catanzaro, A. Phanishayee, M. Zaharia.
    "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM".
    SC 2021 (arXiv 2104.04473), Table 1 (weak scaling on Selene, A100 80GB).

with the settings of the paper's own artifact, NVIDIA/Megatron-LM
`examples/sc21/run_table_1.sh` (micro-batch size, full activation recomputation
`--recompute-method uniform` on every row, `--num-layers-per-virtual-pipeline-stage` for
the interleaved rows), on the `dgx-a100` preset, and prints a Markdown table: published vs
simulated TFLOP/s per GPU, the error, the step time, MFU and the step-time breakdown. Each
row runs twice: as modelled (every layer's memory-bound kernels included, the default) and
"before", with `--set memory_bound_ops=false` (matrix multiplications only, the model before
those kernels were added). A second table compares the step time the memory-bound kernels
add with the estimate written before they were modelled.

Usage (Python standard library only):

    cargo build --release -p mlsim
    python3 scripts/pipeline/megatron_sc21.py [--mlsim target/release/mlsim] [--out FILE.md]
        [--json FILE.json] [-- EXTRA mlsim step FLAGS]

Extra flags after `--` go to every `mlsim step` (e.g. `-- --network flow`).
"""

import argparse
import json
import os
import subprocess
import sys
import time

# Table 1 of Narayanan et al. (SC'21): model preset, GPUs, TP, PP, global batch, achieved
# TFLOP/s per GPU as published; micro-batch and layers per virtual stage from
# examples/sc21/run_table_1.sh (interleave v = layers / (pp * layers per virtual stage)).
#   (preset,         params B, heads, hidden, layers, GPUs, tp, pp, mbs, gbs, v, published)
ROWS = [
    ("megatron-1.7b",    1.7,  24,  2304,  24,   32, 1,  1, 16,  512, 1, 137),
    ("megatron-3.6b",    3.6,  32,  3072,  30,   64, 2,  1, 16,  512, 1, 138),
    ("megatron-7.5b",    7.5,  32,  4096,  36,  128, 4,  1, 16,  512, 1, 142),
    ("megatron-18b",    18.4,  48,  6144,  40,  256, 8,  1,  8, 1024, 1, 135),
    ("megatron-39b",    39.1,  64,  8192,  48,  512, 8,  2,  4, 1536, 1, 138),
    ("megatron-76b",    76.1,  80, 10240,  60, 1024, 8,  4,  2, 1792, 3, 140),  # 5 layers per virtual stage
    ("megatron-145b",  145.6,  96, 12288,  80, 1536, 8,  8,  2, 2304, 2, 148),  # 5 layers per virtual stage
    ("megatron-310b",  310.1, 128, 16384,  96, 1920, 8, 16,  1, 2160, 2, 155),  # 3 layers per virtual stage
    ("megatron-530b",  529.6, 128, 20480, 105, 2520, 8, 35,  1, 2520, 3, 163),  # 1 layer per virtual stage
    ("megatron-1t",   1008.0, 160, 25600, 128, 3072, 8, 64,  1, 3072, 1, 163),
]
SEQ = 2048

# The A100 80GB's HBM bandwidth and the memory-bound efficiency of the cluster model
# (docs/models/cluster.md §2, `mlsim list gpus`), not fitted to anything here.
HBM_BYTES_S = 2039e9 * 0.83


def modelled_bytes_per_token_layer(h, a, t):
    """Bytes one GPU moves per token and layer in the memory-bound kernels as the models
    crate counts them (`TransformerSpec::layer_memory_bound`, docs/models/pipeline.md §2a),
    GPT-3 block, no sequence parallelism, full recomputation (F, B, and F again in B):
    F = 22h + 20h/t + 9as/t, B = 46h + 44h/t + 11as/t. Repeated here for the comparison
    only; the simulator computes its own."""
    forward = 22 * h + 20 * h / t + 9 * a * SEQ / t
    backward = 46 * h + 44 * h / t + 11 * a * SEQ / t
    return 2 * forward + backward


def elementwise_bytes_per_token_layer(h, a, t):
    """The estimate written before the kernels were modelled (kept for the comparison).
    Bytes one GPU moves to and from HBM per token and layer in the memory-bound
    (non-matmul) kernels of a Megatron-LM 2021 layer, 16-bit activations, 1-byte dropout masks,
    with its fused kernels (bias+GeLU, bias+dropout+add, scale+mask+softmax). Forward:
    2 LayerNorms (read + write h: 8h), 2 bias+dropout+add (read 2h, write h, mask h: 14h),
    both replicated on every TP rank (no sequence parallelism); bias+GeLU on 4h/t (16h/t),
    softmax on a s / t scores (read + write: 4as/t), attention dropout (read, write, mask:
    5as/t). The backward is taken as twice the forward and full recomputation adds one
    forward: 4 forwards in all. An estimate by counting, not a measurement."""
    forward = 22 * h + (16 * h + 9 * a * SEQ) / t
    return 4 * forward

# Settings every row shares: the paper's cluster (DGX A100 80GB, 8 x HDR per node), full
# recomputation (the artifact's `--recompute-method uniform`, and NAR's FLOPs count
# 96 B s l h^2 (...) includes the extra forward), 1F1B, all-reduce data parallelism (no
# distributed optimizer in 2021), no sequence parallelism (later work), even layer split
# (Megatron's default), 18 bytes of state per parameter (fp32 gradient accumulation).
COMMON = ["--preset", "dgx-a100", "--recompute", "full", "--set", "state_bytes_per_param=18"]


def step(mlsim, row, extra, before=False):
    model, _, _, _, _, gpus, tp, pp, mbs, gbs, v, _ = row
    cmd = [mlsim, "step", "--model", model, "--gpus", str(gpus), "--tp", str(tp),
           "--pp", str(pp), "--micro-batch", str(mbs), "--global-batch", str(gbs)]
    if v > 1:
        cmd += ["--interleave", str(v)]
    cmd += COMMON + extra + ["--json"]
    if before:
        cmd += ["--set", "memory_bound_ops=false"]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if out.returncode != 0:
        return None, wall, cmd, out.stderr.strip()
    return json.loads(out.stdout), wall, cmd, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlsim", default=os.path.join("target", "release", "mlsim"))
    ap.add_argument("--out", help="also write the Markdown table to this file")
    ap.add_argument("--json", help="write every row's published figures and mlsim output")
    ap.add_argument("extra", nargs="*", help="extra flags for mlsim step (after --)")
    args = ap.parse_args()
    if not os.path.exists(args.mlsim):
        raise SystemExit(f"{args.mlsim} not found: run `cargo build --release -p mlsim`")

    lines = [
        "| Model | GPUs | TP | PP | DP | mbs | batch | v | published TFLOP/s"
        " | before: simulated TFLOP/s | before: error | simulated TFLOP/s"
        " | error | step time | MFU | compute | TP exposed | bubble | DP exposed | optimizer"
        " | memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    est = [
        "| Model | step before | step now | added by the memory-bound kernels"
        " | earlier estimate | bytes per token and layer, modelled / estimate |",
        "|---|---|---|---|---|---|",
    ]
    dump, total = [], 0.0
    for row in ROWS:
        model, params_b, heads, hidden, layers, gpus, tp, pp, mbs, gbs, v, published = row
        res, wall, cmd, error = step(args.mlsim, row, args.extra)
        old, wall_old, _, error_old = step(args.mlsim, row, args.extra, before=True)
        total += wall + wall_old
        if res is None or old is None:
            lines.append(f"| {params_b:g}B | {gpus:,} | {tp} | {pp} | | {mbs} | {gbs:,} | {v}"
                         f" | {published} | {error or error_old} |" + " |" * 11)
            dump.append({"model": model, "published_tflops_per_gpu": published,
                         "error": None, "failure": error, "command": cmd[1:]})
            print(f"{model}: {error}", file=sys.stderr)
            continue
        sim = res["tflops_per_gpu"]
        err = (sim - published) / published
        sim_old = old["tflops_per_gpu"]
        err_old = (sim_old - published) / published
        b = res["breakdown"]
        t = res["step_time_s"]

        def pct(key):
            return f"{b[key]:.2f} s ({100 * b[key] / t:.0f}%)"

        lines.append(
            f"| {params_b:g}B | {gpus:,} | {tp} | {pp} | {res['dp']} | {mbs} | {gbs:,} | {v}"
            f" | {published} | {sim_old:.1f} | {100 * err_old:+.1f}% | {sim:.1f}"
            f" | {100 * err:+.1f}% | {t:.2f} s"
            f" | {100 * res['mfu']:.1f}% | {pct('compute_s')} | {pct('tp_comm_exposed_s')}"
            f" | {pct('bubble_s')} | {pct('dp_comm_exposed_s')} | {pct('optimizer_s')}"
            f" | {res['peak_mem_bytes'] / 2**30:.1f} GiB |"
        )
        # The earlier estimate: tokens through each GPU per step (every stage sees its
        # pipeline's share of the batch), times the layers on the GPU, times the bytes per
        # token and layer, at the memory-bound rate, no per-kernel time.
        tokens = gbs * SEQ / res["dp"]
        extra = tokens * layers / pp * elementwise_bytes_per_token_layer(hidden, heads, tp)
        extra_s = extra / HBM_BYTES_S
        t_old = old["step_time_s"]
        ratio = (modelled_bytes_per_token_layer(hidden, heads, tp)
                 / elementwise_bytes_per_token_layer(hidden, heads, tp))
        est.append(f"| {params_b:g}B | {t_old:.2f} s | {t:.2f} s | {t - t_old:.2f} s"
                   f" | {extra_s:.2f} s | {ratio:.2f} |")
        dump.append({"model": model, "published_tflops_per_gpu": published,
                     "error": err, "wall_s": wall, "command": cmd[1:], "mlsim": res,
                     "before": {"tflops_per_gpu": sim_old, "error": err_old,
                                "step_time_s": t_old},
                     "elementwise_estimate_s": extra_s})
        print(f"{model}: {sim:.1f} vs {published} ({100 * err:+.1f}%), {wall:.2f} s",
              file=sys.stderr)
    errs = [abs(d["error"]) for d in dump if d["error"] is not None]
    olds = [abs(d["before"]["error"]) for d in dump if d["error"] is not None]
    lines.append("")
    lines.append(f"Mean absolute error {100 * sum(errs) / len(errs):.1f}%, largest"
                 f" {100 * max(errs):.1f}%; {sum(e <= 0.15 for e in errs)} of {len(dump)} rows"
                 f" within 15% (before: {100 * sum(olds) / len(olds):.1f}%, largest"
                 f" {100 * max(olds):.1f}%, {sum(e <= 0.15 for e in olds)} within 15%)."
                 f" `mlsim step` wall time, all {2 * len(dump)} runs: {total:.1f} s.")
    lines += ["", *est]
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dump, f, indent=1)


if __name__ == "__main__":
    main()
