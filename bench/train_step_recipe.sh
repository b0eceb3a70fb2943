#!/bin/bash
# Issue #7 point 7 on a 2-GPU machine: the 7B full fine-tune recipe (README's 2-GPU command) at 704x1280 and 720x1280.
# Run from the repo root with PYTHONPATH=. and PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True. With $OUT set, the
# rows go to $OUT/ts.json and the log to $OUT/recipe.log; without it, to bench/results/train_step.json and
# bench/results/recipe.log. About 4 minutes on 2 x H200.
log=${OUT:-bench/results}/recipe.log; out=(); [ -n "$OUT" ] && out=(--out "$OUT/ts.json")
nvidia-smi --query-gpu=name,memory.total --format=csv | tee -a "$log"
for lat in 16,88,160 16,90,160; do
  cmd="torchrun --nproc_per_node 2 bench/train_step.py --iters 3 --warmup 1 --latent $lat --ema-offload --keep-attn 8 --act-offload 8 --memory-cap 67.5"
  echo "=== $cmd" | tee -a "$log"
  timeout 150 $cmd "${out[@]}" 2>&1 | grep -v "^W[0-9]\{4\}\|OMP_NUM\|\*\*\*\*" | tee -a "$log"
done
