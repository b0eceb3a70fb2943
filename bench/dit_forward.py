"""Time the Cosmos DiT forward and forward+backward on one GPU (bf16, random weights).

Default: the 7B network at the 704x1280x121 generation latent [1,16,16,88,160] (56,320 tokens), torch SDPA attention,
per-block activation checkpointing for the backward pass (without it the activations of 28 blocks at 56k tokens do
not fit in 80 GB). Prints a table and writes bench/results/dit_forward.json.

    python bench/dit_forward.py                                  # 7B, 16x88x160
    python bench/dit_forward.py --preset 14b --latent 16,48,48
    python bench/dit_forward.py --preset tiny --device cpu --latent 2,8,8 --steps 1   # smoke test

FLOPs are model FLOPs of the matmuls and attention (2 per multiply-add; the recomputation of activation
checkpointing is not counted; backward = 2 x forward), so TFLOP/s of fwd+bwd is comparable to an MFU figure.
"""
import argparse, json, platform, time
from pathlib import Path
import torch
from cosmos_nb.config import dit_config
from cosmos_nb.dit import GeneralDIT
from cosmos_nb.memory import MemoryPlan


def forward_flops(cfg, B, T, H, W, M=512):
    "Model FLOPs of one forward pass of `GeneralDIT` (matmuls + attention; norms and pointwise ops ignored)."
    D, N, R = cfg.model_channels, cfg.num_blocks, cfg.adaln_lora_dim
    ps, pt, Dc, F = cfg.patch_spatial, cfg.patch_temporal, cfg.crossattn_emb_channels, int(cfg.model_channels*cfg.mlp_ratio)
    L = (T//pt) * (H//ps) * (W//ps)
    cin = (cfg.in_channels + 1) * ps * ps * pt
    fa = 2*L*D*D*4 + 2*2*L*L*D                       # q, k, v, out projections + (q kᵀ, p v)
    ca = 2*L*D*D*2 + 2*M*Dc*D*2 + 2*2*L*M*D           # q, out + k, v of the context + attention over M tokens
    mlp = 2*L*D*F*2
    adaln = 3 * 2*(D*R + R*3*D)                        # per sample
    per_block = fa + ca + mlp + adaln
    other = 2*L*cin*D + 2*L*D*cfg.out_channels*ps*ps*pt + 2*(D*D + D*3*D) + 2*(D*R + R*2*D)
    return B * (N*per_block + other), L


def random_dit(cfg, B, T, H, W, device, dtype):
    "The DiT of `cfg` with random weights on `device`, and random inputs `(x, sigma, t5, fps)` for a [B,16,T,H,W] latent."
    with torch.device('meta'): net = GeneralDIT(cfg)
    net = net.to(dtype).to_empty(device=device)
    net.init_weights()
    torch.manual_seed(0)
    x = torch.randn(B, cfg.in_channels, T, H, W, device=device, dtype=dtype)
    c = torch.randn(B, device=device, dtype=dtype) * 0.5
    t5 = torch.randn(B, 512, cfg.crossattn_emb_channels, device=device, dtype=dtype)
    fps = torch.full((B,), 24.0, device=device, dtype=dtype)
    return net, (x, c, t5, fps)


def timed(fn, steps, warmup, device):
    for _ in range(warmup): fn()
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    sync(); t0 = time.perf_counter()
    for _ in range(steps): fn()
    sync()
    return (time.perf_counter() - t0) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='7b', help="network preset: 7b, 14b or tiny")
    ap.add_argument('--latent', default='16,88,160', help="latent T,H,W (704x1280x121 -> 16,88,160)")
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--backend', default='sdpa', help="attention backend: sdpa, flash, naive, auto")
    ap.add_argument('--dtype', default='bf16', choices=['bf16', 'fp32'])
    ap.add_argument('--no-checkpoint', action='store_true', help="disable per-block activation checkpointing in fwd+bwd")
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--compile', action='store_true', help="also time the forward with every block compiled (MemoryPlan(compile=True))")
    ap.add_argument('--diffusers', action='store_true', help="also time diffusers' CosmosTransformer3DModel of the same size (bench-only extra)")
    ap.add_argument('--no-train', action='store_true', help="forward passes only")
    ap.add_argument('--fp8', action='store_true', help="also time the compiled forward with float8 block projections (torchao; changes the network: runs last among the forwards)")
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'dit_forward.json'))
    a = ap.parse_args()
    assert a.no_train or not a.fp8, "--fp8 changes the network: use it with --no-train"

    device = torch.device(a.device)
    dtype = torch.bfloat16 if a.dtype == 'bf16' else torch.float32
    T, H, W = map(int, a.latent.split(','))
    cfg = dit_config(a.preset, attn_backend=a.backend)
    net, (x, c, t5, fps) = random_dit(cfg, a.batch, T, H, W, device, dtype)
    flops, L = forward_flops(cfg, a.batch, T, H, W)
    card = torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or 'cpu'
    cuda = device.type == 'cuda'

    def peak_reset():
        if cuda: torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)
    def peak(): return torch.cuda.max_memory_allocated(device) / 2**30 if cuda else float('nan')

    rows = {}
    # forward only (inference)
    peak_reset()
    try:
        with torch.no_grad(): sec = timed(lambda: net(x, c, t5, fps=fps), a.steps, a.warmup, device)
        rows['forward'] = dict(seconds=sec, tokens_per_s=a.batch*L/sec, tflops=flops/sec/1e12, peak_gib=peak())
    except torch.cuda.OutOfMemoryError as e: rows['forward'] = dict(error=f"OOM: {str(e)[:200]}")

    if a.compile:
        MemoryPlan(compile=True).apply(net)
        peak_reset()
        with torch.no_grad():
            sec = timed(lambda: net(x, c, t5, fps=fps), a.steps, a.warmup + 1, device)
        rows['forward compiled'] = dict(seconds=sec, tokens_per_s=a.batch*L/sec, tflops=flops/sec/1e12, peak_gib=peak())
        with torch.no_grad():
            yc = net(x, c, t5, fps=fps).float(); MemoryPlan().apply(net); ye = net(x, c, t5, fps=fps).float()
        rows['forward compiled']['rel_err_vs_eager'] = float((yc - ye).norm() / ye.norm()); del yc, ye
    if a.fp8:
        from cosmos_nb.fp8 import to_fp8_inference
        with torch.no_grad(): ye = net(x, c, t5, fps=fps).float()
        to_fp8_inference(net); MemoryPlan(compile=True).apply(net)
        peak_reset()
        with torch.no_grad(): sec = timed(lambda: net(x, c, t5, fps=fps), a.steps, a.warmup + 1, device)
        rows['forward compiled fp8'] = dict(seconds=sec, tokens_per_s=a.batch*L/sec, tflops=flops/sec/1e12, peak_gib=peak())
        with torch.no_grad(): y8 = net(x, c, t5, fps=fps).float()
        rows['forward compiled fp8']['rel_err_vs_eager'] = float((y8 - ye).norm() / ye.norm()); del y8, ye
    if a.diffusers:
        try:
            from diffusers import CosmosTransformer3DModel
            with torch.device('meta'):
                dm = CosmosTransformer3DModel(in_channels=16, out_channels=16, num_attention_heads=cfg.num_heads, attention_head_dim=cfg.model_channels//cfg.num_heads,
                                              num_layers=cfg.num_blocks, mlp_ratio=cfg.mlp_ratio, text_embed_dim=cfg.crossattn_emb_channels,
                                              adaln_lora_dim=cfg.adaln_lora_dim, max_size=(128, 240, 240), patch_size=(1, 2, 2),
                                              rope_scale=(2.0, 1.0, 1.0), concat_padding_mask=True, extra_pos_embed_type='learnable')
            dm = dm.to_empty(device=device).to(dtype)
            with torch.no_grad():
                for p_ in dm.parameters(): p_.normal_(0, 0.02)
            pm = torch.zeros(a.batch, 1, H*8, W*8, device=device, dtype=dtype)
            dfw = lambda: dm(hidden_states=x, timestep=c, encoder_hidden_states=t5, fps=24, padding_mask=pm, return_dict=False)
            peak_reset()
            with torch.no_grad(): sec = timed(dfw, a.steps, a.warmup, device)
            rows['diffusers forward'] = dict(seconds=sec, tokens_per_s=a.batch*L/sec, tflops=flops/sec/1e12, peak_gib=peak())
            del dm
        except Exception as e: rows['diffusers forward'] = dict(error=f"{type(e).__name__}: {str(e)[:300]}")
    if a.no_train: net.requires_grad_(False)
    # forward + backward (training step without the optimizer)
    MemoryPlan(checkpoint=not a.no_checkpoint).apply(net)
    def step():
        out = net(x, c, t5, fps=fps)
        out.float().square().mean().backward()
        net.zero_grad(set_to_none=True)
    peak_reset()
    try:
        if a.no_train: raise StopIteration
        sec = timed(step, a.steps, a.warmup, device)
        rows['fwd+bwd'] = dict(seconds=sec, tokens_per_s=a.batch*L/sec, tflops=3*flops/sec/1e12, peak_gib=peak())
    except torch.cuda.OutOfMemoryError as e: rows['fwd+bwd'] = dict(error=f"OOM: {str(e)[:200]}")
    except StopIteration: pass

    params = sum(p.numel() for p in net.parameters())
    print(f"\nCosmos DiT {a.preset} ({params/1e9:.2f} B params), latent [{a.batch},16,{T},{H},{W}] = {a.batch*L:,} tokens, "
          f"{a.dtype}, attention {a.backend}, activation checkpointing {'off' if a.no_checkpoint else 'on'} (fwd+bwd), on {card}")
    print(f"model forward FLOPs: {flops/1e15:.3f} PFLOP\n")
    print(f"{'pass':10s} {'s/iter':>9s} {'tokens/s':>10s} {'TFLOP/s':>9s} {'peak GiB':>9s}")
    for k, r in rows.items():
        if 'error' in r: print(f"{k:18s} {r['error']}")
        else: print(f"{k:18s} {r['seconds']:9.3f} {r['tokens_per_s']:10,.0f} {r['tflops']:9.1f} {r['peak_gib']:9.1f}")

    res = dict(card=card, torch=torch.__version__, cuda=torch.version.cuda, preset=a.preset, params=params,
               latent=[a.batch, cfg.in_channels, T, H, W], tokens=a.batch*L, dtype=a.dtype, attn_backend=a.backend,
               activation_checkpointing=not a.no_checkpoint, steps=a.steps, warmup=a.warmup,
               forward_flops=flops, results=rows, when=time.strftime('%Y-%m-%d %H:%M:%S'))
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(f"\nwrote {out}")


if __name__ == '__main__':
    main()
