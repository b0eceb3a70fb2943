"""Time one LoRA post-training step of the Cosmos DiT (7B by default) on ONE GPU, as `cosmos_nb.train` runs it (issue #8, point 5).

The seed's `text2world_7b_lora_example_cosmos_nemo_assets` settings: peft LoRA rank 8, scale 1 on the q and v projections
of self- and cross-attention in blocks 0-27, everything else frozen in bf16; LoRA weights fp32 under bf16 autocast;
per-block activation checkpointing; AdamW (lr 1e-4) on the LoRA weights only; clipping at 1.0; power EMA of the LoRA
weights. This is the trainer's single-process LoRA path (`Trainer._make_model` with `model.lora.enabled=true`), fed with
random latents and T5 embeddings (no tokenizer, no data loading: the DiT step alone), batch 1.

    PYTHONPATH=. python bench/lora_step.py                          # 7B, 720x1280x121 -> latent 16x90x160 (the seed's size)
    PYTHONPATH=. python bench/lora_step.py --latent 16,60,106       # 7B, 480x848x121 (the seed's LoRA example size)
    PYTHONPATH=. python bench/lora_step.py --preset tiny --latent 2,4,4 --iters 2 --warmup 1   # smoke test (CPU)

Prints s/iter, tokens/s and the peak memory; appends to bench/results/lora_step.json. Target (issue #8): the full
720x1280x121 on one GPU with peak memory <= 40 GiB (so it also fits a 48 GB card). `--act-offload` keeps the
checkpointed block inputs in pinned host memory (`cosmos_nb.memory.ActivationOffload`, fsdp.offload_activations=true).
"""
import argparse, json, os, platform, resource, time
from pathlib import Path
import numpy as np
import torch
from cosmos_nb.config import dit_config, LoRAConfig, OptimizerConfig, SchedulerConfig
from cosmos_nb.dit import DiffusionNet, VideoRopePosition3DEmb, FourierFeatures
from cosmos_nb.diffusion import edm_loss, sample_sigma, text_dropout
from cosmos_nb.optim import make_optimizer, make_scheduler, PowerEMA, clip_grad_norm_
from cosmos_nb.lora import lora_info, apply_lora
from cosmos_nb.memory import MemoryPlan, memory_fraction
from cosmos_nb.planner import plan_memory
from cosmos_nb.fp8 import to_fp8_training


@torch.no_grad()
def random_base(cfg, dev, dtype):
    "The base network in `dtype` on `dev` with random values (built on meta: no 28 GB fp32 CPU copy)."
    with torch.device('meta'): model = DiffusionNet(cfg)
    model = model.to_empty(device=dev)
    g = torch.Generator(device=dev).manual_seed(0)
    for p in model.parameters(): p.copy_(torch.randn(p.shape, generator=g, device=dev).mul_(0.02))
    for m in model.modules():
        if isinstance(m, (VideoRopePosition3DEmb, FourierFeatures)): m.reset_parameters()
    return model.to(dtype)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='7b', help="network preset: 7b, 14b or tiny")
    ap.add_argument('--latent', default='16,90,160', help="latent T,H,W: 16,90,160 = 720x1280x121, 16,88,160 = 704x1280x121")
    ap.add_argument('--iters', type=int, default=5, help="timed iterations")
    ap.add_argument('--warmup', type=int, default=2, help="untimed iterations first")
    ap.add_argument('--backend', default='sdpa', help="attention backend (cosmos_nb.dit.ATTN_BACKENDS)")
    ap.add_argument('--rank', type=int, default=8)
    ap.add_argument('--blocks', type=int, default=28, help="LoRA in blocks 0 .. blocks-1")
    ap.add_argument('--no-checkpoint', action='store_true', help="no activation checkpointing")
    ap.add_argument('--no-ema', action='store_true')
    ap.add_argument('--keep-attn', type=int, default=0, help="blocks whose self-attention output is kept for the backward (not recomputed): 0 none, k the last k, -1 all (fsdp.keep_attention)")
    ap.add_argument('--act-offload', type=int, default=0, help="blocks whose checkpointed inputs wait in host memory: 0 none, k the first k, -1 all (fsdp.offload_activations)")
    ap.add_argument('--fp8', action='store_true', help="the blocks' projections in float8 (trainer.fp8; torchao)")
    ap.add_argument('--compile', action='store_true', help="torch.compile each transformer block (trainer.compile)")
    ap.add_argument('--plan', default='manual', choices=['manual', 'auto'], help="auto: the memory planner chooses each block's mode (fsdp.memory_plan=auto)")
    ap.add_argument('--cap', type=float, default=0, help="GiB: cap the caching allocator (trainer.gpu_memory_cap_gib); the planner's budget is the cap (or the card) less --margin")
    ap.add_argument('--margin', type=float, default=1.0, help="GiB the planner leaves below the cap for fragmentation")
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'lora_step.json'))
    a = ap.parse_args()

    dev = torch.device(a.device); cuda = dev.type == "cuda"
    if cuda and dev.index is None: dev = torch.device("cuda", torch.cuda.current_device())
    if cuda: torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = torch.backends.cudnn.benchmark = True
    dt = torch.bfloat16
    T, H, W = map(int, a.latent.split(','))
    cfg = dit_config(a.preset, attn_backend=a.backend)
    tokens = T*(H//cfg.patch_spatial)*(W//cfg.patch_spatial)

    t0 = time.perf_counter()
    model = random_base(cfg, dev, dt)
    apply_lora(model, LoRAConfig(enabled=True, rank=a.rank, scale=1.0, first_nblocks=min(a.blocks, cfg.num_blocks)))
    with torch.no_grad():                                  # as Trainer._make_model: trained params fp32, the rest bf16
        for p in model.parameters(): p.data = p.data.to(dev, torch.float32 if p.requires_grad else dt)
    if a.fp8: print(f"fp8: {to_fp8_training(model)} linear layers in float8", flush=True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    ema = None if a.no_ema else PowerEMA(model, 0.1)
    choice, plan_s = None, 0.0
    if cuda and a.cap: torch.cuda.set_per_process_memory_fraction(memory_fraction(a.cap, torch.cuda.get_device_properties(dev).total_memory), dev)
    if a.plan == 'auto':
        total = a.cap*2**30 if a.cap else torch.cuda.get_device_properties(dev).total_memory if cuda else 2**40
        tp = time.perf_counter()
        choice = plan_memory(model, (cfg.in_channels, T, H, W), 1, int(total - a.margin*2**30), dev,
                             static=3*4*sum(p.numel() for p in trainable), compile=a.compile, autocast_dtype=dt)
        plan_s = time.perf_counter() - tp
        print(choice.describe(), f"(planned in {plan_s:.0f} s)", flush=True)
        for m_, c_ in choice.costs.items(): print(f"  {m_:10s} kept {c_.kept/2**30:6.2f} GiB  fwd {c_.fwd/2**30:6.2f}  bwd {c_.bwd/2**30:6.2f}  {c_.seconds:.3f} s")
        plan = MemoryPlan(modes=choice.modes, compile=a.compile).apply(model)
    else: plan = MemoryPlan(checkpoint=not a.no_checkpoint, offload=a.act_offload, keep_attention=a.keep_attn, compile=a.compile).apply(model)   # as Trainer._make_model
    info = lora_info(model)
    opt = make_optimizer(trainable, OptimizerConfig(lr=1e-4))
    sched = make_scheduler(opt, SchedulerConfig(warm_up_steps=0, cycle_lengths=10_000_000_000_000, f_start=1e-6, f_max=1.0, f_min=1.0))
    build_s = time.perf_counter() - t0
    weights_gib = torch.cuda.memory_allocated(dev)/2**30 if cuda else float('nan')

    rng = np.random.default_rng(0)
    gen = torch.Generator(dev).manual_seed(0)
    x0 = (torch.randn(1, cfg.in_channels, T, H, W, generator=gen, device=dev)*0.5).to(dt)
    emb = torch.randn(1, 512, cfg.crossattn_emb_channels, generator=gen, device=dev).to(dt)
    tgen = torch.Generator().manual_seed(1)
    cond = dict(fps=torch.full((1,), 24.0, device=dev, dtype=dt), padding_mask=torch.zeros(1, 1, H*8, W*8, device=dev, dtype=dt))
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def step(k):
        sigma = sample_sigma(1, rng)
        eps = torch.randn(x0.shape, generator=gen, device=dev).to(dt)
        with torch.autocast(dev.type, dtype=dt):
            out = edm_loss(model, None, x0, dict(cond, crossattn_emb=text_dropout(emb, 0.2, tgen)), sigma, eps)
            out['loss'].backward()
        gn = clip_grad_norm_(trainable, 1.0)
        opt.step(); sched.step()
        if ema is not None: ema.update(k)
        opt.zero_grad(set_to_none=True)
        return out['loss'].detach(), gn

    for k in range(a.warmup): step(k)
    sync()
    if cuda: torch.cuda.reset_peak_memory_stats(dev)
    times = []
    for k in range(a.warmup, a.warmup + a.iters):
        t = time.perf_counter(); loss, gn = step(k); sync(); times.append(time.perf_counter() - t)
    s_iter = float(np.median(times))
    lora_norm = float(torch.stack([p.detach().float().norm() for n, p in model.named_parameters() if 'lora_B' in n]).norm())
    card = torch.cuda.get_device_name(dev) if cuda else (platform.processor() or 'cpu')
    res = dict(preset=a.preset, latent=[cfg.in_channels, T, H, W], tokens=tokens, device=card, gpus=1,
               lora=dict(rank=a.rank, blocks=min(a.blocks, cfg.num_blocks), layers=info.n_layers,
                         trained_params=sum(p.numel() for p in trainable)),
               attn_backend=a.backend, activation_checkpointing=not a.no_checkpoint, activation_offload=a.act_offload, keep_attention=a.keep_attn, ema=not a.no_ema,
               alloc_conf=os.environ.get('PYTORCH_CUDA_ALLOC_CONF', ''),
               iters=a.iters, warmup=a.warmup, build_s=round(build_s, 1), s_per_iter=round(s_iter, 3),
               s_per_iter_all=[round(t, 3) for t in times], tokens_per_s=round(tokens/s_iter, 1),
               weights_gib=round(weights_gib, 2),
               peak_alloc_gib=round(torch.cuda.max_memory_allocated(dev)/2**30, 2) if cuda else None,
               peak_reserved_gib=round(torch.cuda.max_memory_reserved(dev)/2**30, 2) if cuda else None,
               alloc_retries=torch.cuda.memory_stats(dev).get('num_alloc_retries') if cuda else None,
               host_peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20, 1),
               compile=a.compile, fp8=a.fp8, plan=plan.describe(), cap_gib=a.cap,
               predicted_peak_gib=round(choice.peak/2**30, 2) if choice else None, plan_s=round(plan_s, 1),
               loss=float(loss), grad_norm=float(gn), lora_B_norm_after=round(lora_norm, 6),
               torch=torch.__version__, date=time.strftime('%Y-%m-%d %H:%M'))
    print(f"{a.preset} LoRA r{a.rank} on blocks 0-{res['lora']['blocks']-1}, latent {T}x{H}x{W} ({tokens} tokens), 1 x {card}, "
          f"AC {'on' if not a.no_checkpoint else 'off'}{f' (inputs of {a.act_offload if a.act_offload > 0 else cfg.num_blocks} blocks in host memory)' if a.act_offload else ''}{f', self-attention kept in {a.keep_attn if a.keep_attn > 0 else cfg.num_blocks} blocks' if a.keep_attn else ''}, EMA {'on' if not a.no_ema else 'off'}: "
          f"{res['lora']['trained_params']:,} trained params")
    print(f"  {s_iter:.3f} s/iter (median of {a.iters}) | {res['tokens_per_s']:.0f} tokens/s | weights {res['weights_gib']} GiB | "
          f"peak alloc {res['peak_alloc_gib']} GiB | peak reserved {res['peak_reserved_gib']} GiB | build {build_s:.0f} s | "
          f"loss {float(loss):.3f} | |lora_B| after training {lora_norm:.3g} | allocator retries {res['alloc_retries']} | "
          f"host peak RSS {res['host_peak_rss_gib']} GiB")
    if choice is not None and cuda:
        print(f"  planner: predicted peak {choice.peak/2**30:.2f} GiB, measured {res['peak_alloc_gib']:.2f} GiB "
              f"({res['peak_alloc_gib']*2**30/choice.peak - 1:+.1%})")
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps((old if isinstance(old, list) else [old]) + [res], indent=1))


if __name__ == '__main__': main()
