#!/usr/bin/env bash
# train_vs_torch.sh — olmo.c training (fp32 and bf16) and PyTorch on the CPU, the same model, data and threads,
# one after the other in one run (timings on a shared machine are noisy: compare within a run, repeat, take the
# best). Usage: bench/train_vs_torch.sh [STEPS] [THREADS] [--busy]. Needs `make bench` first.
set -u
STEPS=${1:-6}; THREADS=${2:-2}; BUSY=${3:-}
BUILD=${BUILD:-build}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
echo "== olmo.c (build/bench/bench_train --steps $STEPS $BUSY) =="
"$BUILD/bench/bench_train" --steps "$STEPS" $BUSY 2>/dev/null
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') on the CPU, BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3) =="
spin=""
if [ "$BUSY" = "--busy" ]; then ( while :; do :; done ) & spin=$!; fi
/usr/bin/python3 bench/train_torch.py --steps "$STEPS" --threads "$THREADS" | tail -1
[ -n "$spin" ] && kill "$spin"
exit 0
