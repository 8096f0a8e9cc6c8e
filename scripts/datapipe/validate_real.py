#!/usr/bin/env python3
"""Predicted vs measured throughput of real input pipelines on this machine (issue 17, item 6).

For each plan of the matrix (image and text pipelines; cedar's operator order and one legal
reordering; 1 and 2 workers per stage; fused into one stage or one stage per operator) it asks
the simulator (`mlsim datapipe run`, from the profile of cedar's order written by `mlsim
datapipe profile`: the reordered plans are predicted by the cost model's size scaling, not from
their own profile) and, with --measure, runs the same plan for real (`mlsim datapipe run
--real`, best of --repeats). Prints a Markdown table. Standard library only.

    cargo build --release -p mlsim
    target/release/mlsim datapipe profile --pipeline image --samples 100
    target/release/mlsim datapipe profile --pipeline text --samples 5000
    python3 scripts/datapipe/validate_real.py --measure
"""

import argparse
import json
import subprocess
import sys

ORDERS = {
    "image": [
        ("cedar", None),
        ("grayscale before jitter",
         "read,decode,to_float,random_resized_crop,horizontal_flip,grayscale,color_jitter,gaussian_blur,normalize"),
    ],
    "text": [
        ("cedar", None),
        ("eos before bos", "read_line,tokenize,truncate,add_eos,add_bos,to_tensor,embedding"),
    ],
}
SAMPLES = {"image": 200, "text": 20000}


def mlsim(binary, args):
    out = subprocess.run([binary, "datapipe", "run", "--json", *args], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["throughput_samples_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mlsim", default="target/release/mlsim")
    ap.add_argument("--measure", action="store_true", help="also run each plan for real")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print("| pipeline | order | workers/stage | plan | predicted samples/s | measured samples/s | error |")
    print("|---|---|---:|---|---:|---:|---:|")
    for pipeline, orders in ORDERS.items():
        for label, order in orders:
            for workers in (1, 2):
                for fused in (True, False):
                    args = ["--pipeline", pipeline, "--workers", str(workers),
                            "--samples", str(SAMPLES[pipeline])]
                    if order:
                        args += ["--order", order]
                    if fused:
                        args.append("--fuse")
                    pred = mlsim(a.mlsim, args)
                    meas = None
                    if a.measure:
                        meas = max(mlsim(a.mlsim, args + ["--real"]) for _ in range(a.repeats))
                    err = f"{(pred / meas - 1) * 100:+.0f}%" if meas else ""
                    ms = f"{meas:,.1f}" if meas else ""
                    print(f"| {pipeline} | {label} | {workers} | {'fused' if fused else 'unfused'} "
                          f"| {pred:,.1f} | {ms} | {err} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
