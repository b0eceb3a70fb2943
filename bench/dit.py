"""The Cosmos DiT on one GPU: forward at 704x1280x121 and forward+backward at 384x384x121 and 704x1280x121, per
attention backend, with MFU against a bf16 matmul measured in the same run (issue #3, point 6).

    PYTHONPATH=. python bench/dit.py                           # 7B, backends sdpa,cudnn, latents 16x48x48 and 16x88x160
    PYTHONPATH=. python bench/dit.py --backends sdpa --latents 16,48,48

Random weights in bf16 (times do not depend on the values), per-block activation checkpointing for forward+backward
(full recompute, as the baseline). Model FLOPs as in `bench/dit_forward.py` (2 per multiply-add; backward = 2 × forward;
recomputation not counted). MFU = model TFLOP/s ÷ the TFLOP/s of a large bf16 matmul on the same card in the same run.
Baseline (issue #3, one H100 80GB, torch 2.11, a widely used reimplementation): forward 4.39 s at 720p; forward+backward
19.37 s at 720p and 1.62 s at 384p. Prints a table and writes bench/results/dit.json.
"""
import argparse, json, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dit_forward import forward_flops, timed
from cosmos_nb.config import dit_config
from cosmos_nb.dit import GeneralDIT
from cosmos_nb.memory import MemoryPlan

BASELINE = {('forward', '16x88x160'): 4.39, ('fwd+bwd', '16x88x160'): 19.37, ('fwd+bwd', '16x48x48'): 1.62}

def matmul_tflops(n=8192, steps=20):
    "TFLOP/s of an n×n×n bf16 matmul on this GPU (the MFU denominator)."
    a, b = torch.randn(n, n, device='cuda', dtype=torch.bfloat16), torch.randn(n, n, device='cuda', dtype=torch.bfloat16)
    sec = timed(lambda: a @ b, steps, 5, torch.device('cuda'))
    return 2*n**3/sec/1e12

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='7b')
    ap.add_argument('--backends', default='sdpa,cudnn')
    ap.add_argument('--latents', default='16,48,48;16,88,160', help="';'-separated latent T,H,W")
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'dit.json'))
    a = ap.parse_args()
    dev = torch.device('cuda')
    peak_mm = matmul_tflops()
    card = torch.cuda.get_device_name()
    print(f"{card}, torch {torch.__version__}: bf16 matmul {peak_mm:.0f} TFLOP/s")
    cfg = dit_config(a.preset)
    with torch.device('meta'): net = GeneralDIT(cfg)
    net = net.to(torch.bfloat16).to_empty(device=dev); net.init_weights()
    rows = []
    print(f"{'backend':8s} {'latent':10s} {'pass':8s} {'s/iter':>8s} {'TFLOP/s':>8s} {'MFU':>6s} {'peak GiB':>9s} {'baseline s':>10s}")
    for lat in a.latents.split(';'):
        T, H, W = map(int, lat.split(',')); key = f'{T}x{H}x{W}'
        x = torch.randn(1, 16, T, H, W, device=dev, dtype=torch.bfloat16)
        c = torch.randn(1, device=dev, dtype=torch.bfloat16)*0.5
        t5 = torch.randn(1, 512, cfg.crossattn_emb_channels, device=dev, dtype=torch.bfloat16)
        flops, L = forward_flops(cfg, 1, T, H, W)
        for be in a.backends.split(','):
            net.attn_backend = be
            passes = [('forward', 1), ('fwd+bwd', 3)] if (T, H, W) == (16, 88, 160) else [('fwd+bwd', 3)]
            for name, mult in passes:
                MemoryPlan(checkpoint=name != 'forward').apply(net)
                def step():
                    if name == 'forward':
                        with torch.no_grad(): net(x, c, t5)
                    else:
                        net(x, c, t5).float().square().mean().backward(); net.zero_grad(set_to_none=True)
                torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
                try:
                    sec = timed(step, a.steps, a.warmup, dev)
                    tf = mult*flops/sec/1e12
                    r = dict(backend=be, latent=key, tokens=L, pass_=name, seconds=round(sec, 3), tflops=round(tf, 1),
                             mfu=round(tf/peak_mm, 3), peak_gib=round(torch.cuda.max_memory_allocated()/2**30, 1),
                             baseline_seconds=BASELINE.get((name, key)))
                    print(f"{be:8s} {key:10s} {name:8s} {sec:8.3f} {tf:8.1f} {tf/peak_mm:6.1%} {r['peak_gib']:9.1f} {r['baseline_seconds'] or '':>10}")
                except Exception as e:
                    r = dict(backend=be, latent=key, pass_=name, error=f"{type(e).__name__}: {str(e)[:200]}")
                    print(f"{be:8s} {key:10s} {name:8s} {r['error']}")
                rows.append(r)
    res = dict(card=card, torch=torch.__version__, preset=a.preset, matmul_tflops=round(peak_mm, 1), rows=rows,
               when=time.strftime('%Y-%m-%d %H:%M:%S'))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")

if __name__ == '__main__': main()
