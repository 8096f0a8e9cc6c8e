#!/usr/bin/env bash
# Prints the simulated figures of docs/validation.md: nccl-tests-style tables for the sizes
# and GPU counts that published measurements exist for. Run from the repository root.
set -euo pipefail
cargo build --release -q -p mlsim
m() { ./target/release/mlsim collective "$@"; echo; }

echo "## DGX A100, one node"
m --preset dgx-a100 --op all-reduce --gpus 8 --sizes 1KiB,256KiB,512KiB,1MiB,2MiB,4MiB,8MiB,16MiB,32MiB,64MiB,128MiB,256MiB,512MiB,1GiB,8GiB
m --preset dgx-a100 --op all-gather --gpus 8 --sizes 1GiB
m --preset dgx-a100 --op all-to-all --gpus 8 --sizes 1GiB
echo "## DGX A100, two nodes and eight nodes"
m --preset dgx-a100 --op all-reduce --gpus 16 --sizes 1KiB,1GiB,4GiB
m --preset dgx-a100 --op all-reduce --gpus 16 --sizes 1GiB,4GiB --algo ring
m --preset dgx-a100 --op all-gather --gpus 16 --sizes 1GiB,4GiB
m --preset dgx-a100 --op all-to-all --gpus 16 --sizes 1KiB,1GiB,4GiB
m --preset dgx-a100 --op all-reduce --gpus 64 --sizes 8GiB --algo ring
echo "## DGX H100, one node: auto (NVLS from 1 MiB), and the ring"
m --preset dgx-h100 --op all-reduce --gpus 8 --sizes 8,256KiB,512KiB,1MiB,2MiB,4MiB,8MiB,16MiB,32MiB,64MiB,128MiB,256MiB,512MiB,1GiB,8GiB
m --preset dgx-h100 --op all-reduce --gpus 8 --sizes 8GiB --algo ring
m --preset dgx-h100 --op all-gather --gpus 8 --sizes 1GiB,8GiB
m --preset dgx-h100 --op all-to-all --gpus 8 --sizes 1GiB
echo "## DGX H100, twelve and six nodes"
m --preset dgx-h100 --op all-reduce --gpus 96 --sizes 8GiB --algo ring
m --preset dgx-h100 --op all-reduce --gpus 96 --sizes 8GiB --sharp
m --preset dgx-h100 --op all-to-all --gpus 48 --sizes 1GiB
echo "## Flow-level mode agrees with the closed form when nothing contends"
m --preset dgx-a100 --op all-reduce --gpus 16 --sizes 1MiB,1GiB --mode flow
