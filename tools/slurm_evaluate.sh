#!/usr/bin/env bash
# Evaluate a large archive as a Slurm job array, then merge the parts.
#
#   sbatch --array=0-15 tools/slurm_evaluate.sh /data/posteriors /scratch/run1
#   sbatch --dependency=afterok:<array job id> --wrap \
#       "hpx-uncert merge /scratch/run1 -o /scratch/run1"
#
# Each array task runs the work units of its batch shard: `hpx-uncert evaluate`
# reads SLURM_ARRAY_TASK_COUNT / SLURM_ARRAY_TASK_ID for --num-shards /
# --shard-index, opens the archive itself and writes one part file per finished
# unit into OUTDIR/parts. A task that is killed (time limit, preemption) loses
# nothing finished: resubmit the same array index and --resume skips done units.
# Every task must use the same settings (k, correction, patch, ...): `merge`
# refuses parts made with other settings or from other archive contents.
#
# GPUs: request them with --gres=gpu:N and pass --device cuda; with several GPUs
# per task, one worker process per GPU takes units from a shared queue
# (CUDA_VISIBLE_DEVICES as set by Slurm is honoured).
#SBATCH --job-name=hpx-uncert
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=%x-%A_%a.log
set -euo pipefail
archive=${1:?usage: sbatch --array=0-N tools/slurm_evaluate.sh ARCHIVE OUTDIR}
outdir=${2:?usage: sbatch --array=0-N tools/slurm_evaluate.sh ARCHIVE OUTDIR}
device=${HPX_UNCERT_DEVICE:-cpu}

# faiss-cpu is stable and faster with passive OpenMP waiting (benchmarks/NOTES.md)
export OMP_WAIT_POLICY=PASSIVE

hpx-uncert -v evaluate "$archive" -o "$outdir" --resume --device "$device" \
    --memory-budget "${HPX_UNCERT_MEMORY_BUDGET:-8GiB}" --no-figures
