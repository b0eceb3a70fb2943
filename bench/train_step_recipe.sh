#!/bin/bash
# Issue #7 point 7 on a 2-GPU machine: the 7B full fine-tune recipe (README's 2-GPU command) at 704x1280 and 720x1280.
# Run from the repo root with PYTHONPATH=. and PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True; rows go to $OUT/ts.json
# (or bench/results/train_step.json), the logs to $OUT/logs. About 4 minutes on 2 x H200.
OUT=${OUT:-bench/results}; mkdir -p $OUT/logs
nvidia-smi --query-gpu=name,memory.total --format=csv | tee $OUT/logs/gpu.txt
for lat in 16,88,160 16,90,160; do
  cmd="torchrun --nproc_per_node 2 bench/train_step.py --iters 3 --warmup 1 --latent $lat --ema-offload --keep-attn 8 --act-offload 8 --memory-cap 67.5"
  echo "=== $cmd" | tee -a $OUT/logs/recipe.log
  timeout 150 $cmd --out $OUT/ts.json 2>&1 | grep -v "^W[0-9]\{4\}\|OMP_NUM\|\*\*\*\*" | tee -a $OUT/logs/recipe.log
done
