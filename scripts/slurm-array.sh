#!/usr/bin/env bash
# Spread an mlsim sweep over a cluster as a Slurm job array, then merge the shards.
#
#   scripts/slurm-array.sh submit CONFIG [SHARDS]   submit SHARDS array tasks and a merge job
#   scripts/slurm-array.sh local  CONFIG [SHARDS]   the same without Slurm, one shard after another
#
# Task i runs `mlsim run CONFIG --shard i/SHARDS` into OUT/shard-i; the merge job (started when
# every task succeeded) joins them into OUT/merged, identical to a single run, with the report.
# A task that dies can simply be resubmitted: finished runs are kept and skipped.
#
# Environment: MLSIM (the binary; default target/release/mlsim if built, else mlsim on PATH),
# OUT (default results/<config file name>-array), CPUS per task (default 4), TIME (default
# 04:00:00), PARTITION (optional).
set -euo pipefail

usage() { sed -n '2,13p' "$0"; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
config=$2
shards=${3:-8}
name=$(basename "$config" .yaml)
out=${OUT:-results/$name-array}
if [ -z "${MLSIM:-}" ]; then
    if [ -x target/release/mlsim ]; then MLSIM=target/release/mlsim; else MLSIM=mlsim; fi
fi

case "$cmd" in
submit)
    mkdir -p "$out"
    partition=()
    [ -n "${PARTITION:-}" ] && partition=(--partition "$PARTITION")
    jid=$(sbatch --parsable "${partition[@]}" --array="0-$((shards - 1))" --job-name="mlsim-$name" \
        --cpus-per-task="${CPUS:-4}" --time="${TIME:-04:00:00}" --output="$out/slurm-%A_%a.out" \
        --export=ALL,MLSIM="$MLSIM",OUT="$out" "$0" task "$config" "$shards")
    sbatch "${partition[@]}" --dependency="afterok:$jid" --job-name="mlsim-$name-merge" \
        --cpus-per-task=1 --time=01:00:00 --output="$out/slurm-%j-merge.out" \
        --export=ALL,MLSIM="$MLSIM",OUT="$out" "$0" merge "$config" "$shards"
    echo "submitted array job $jid ($shards tasks) and its merge; results in $out/merged"
    ;;
task)
    i=${SLURM_ARRAY_TASK_ID:?task needs SLURM_ARRAY_TASK_ID}
    "$MLSIM" run "$config" --shard "$i/$shards" --jobs "${SLURM_CPUS_PER_TASK:-${CPUS:-1}}" \
        --out "$out/shard-$i" --no-report
    ;;
merge)
    shard_dirs=()
    for i in $(seq 0 $((shards - 1))); do shard_dirs+=("$out/shard-$i"); done
    "$MLSIM" merge "${shard_dirs[@]}" --out "$out/merged"
    ;;
local)
    for i in $(seq 0 $((shards - 1))); do
        SLURM_ARRAY_TASK_ID=$i OUT="$out" MLSIM="$MLSIM" "$0" task "$config" "$shards"
    done
    OUT="$out" MLSIM="$MLSIM" "$0" merge "$config" "$shards"
    ;;
*)
    usage
    ;;
esac
