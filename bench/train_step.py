"""Time one full post-training step of the Cosmos DiT (7B by default) with FSDP2, as `cosmos_nb.train` runs it.

Random weights and random latents / T5 embeddings (no tokenizer, no data loading: the DiT step alone), batch 1 per
GPU. The step is exactly the trainer's: the `cosmos_nb.train.shard_model` wrapping (checkpoint wrapper, then
`fully_shard` per block; fp32 sharded parameters, bf16 compute, fp32 gradient reduction), the EDM/Kendall loss,
non-finite zeroing + clipping at 1.0, fused AdamW, the LambdaLinear schedule and the fp32 power EMA.
Prints s/iter, tokens/s/GPU and the peak memory of every GPU; writes bench/results/train_step.json (rank 0).

    torchrun --nproc_per_node 2 bench/train_step.py                        # 7B, 384x384x121 -> latent 16x48x48
    torchrun --nproc_per_node 2 bench/train_step.py --latent 16,88,160     # 7B, 704x1280x121
    torchrun --nproc_per_node 8 bench/train_step.py --latent 16,90,160     # the seed's 720x1280 run, 8 GPUs
    python bench/train_step.py --preset tiny --latent 2,4,4 --iters 2 --warmup 1   # smoke test (CPU or 1 GPU)

`--keep-attn k` keeps the self-attention output of the last k blocks for the backward (`fsdp.keep_attention`), `--memory-cap G`
caps the caching allocator at G GiB (`trainer.gpu_memory_cap_gib`). The 2-GPU 720p recipe of the README:
    torchrun --nproc_per_node 2 bench/train_step.py --latent 16,90,160 --iters 3 --warmup 1 --ema-offload --keep-attn 8 --act-offload 8 --memory-cap 69
`--mem-trace` records one step's CUDA allocations on rank 0 and prints what is live at its peak (bench/memory_trace.py).
`--act-offload` keeps the checkpointed block inputs in pinned host memory (`ActivationOffload`), `--ema-offload` keeps the EMA in host memory (4 bytes/parameter less per GPU; the update runs on the CPU behind the
next step). Memory per GPU ≈ 20 bytes/parameter / (number of GPUs) for fp32 weights, gradients, AdamW states and EMA
(7B: 141 GB in all; `--no-ema` saves 4 bytes/parameter) + activations: one GPU is not enough for the 7B.
"""
import argparse, json, math, os, platform, resource, time
from pathlib import Path
import numpy as np
import torch
import torch.distributed as dist
from cosmos_nb.config import dit_config, OptimizerConfig, SchedulerConfig
from cosmos_nb.dit import DiffusionNet, VideoRopePosition3DEmb, FourierFeatures
from cosmos_nb.memory import MemoryPlan
from cosmos_nb.diffusion import edm_loss, sample_sigma
from cosmos_nb.parallel import init_distributed, fsdp_mesh, shard_model, sharding_group, local_shard
from cosmos_nb.optim import make_optimizer, make_scheduler, PowerEMA, clip_grad_norm_


@torch.no_grad()
def random_init(model, seed=0):
    "Random values for every local shard (the numbers do not matter for timing) and the constant buffers."
    gens = {}
    for p in model.parameters():
        t = local_shard(p)
        g = gens.setdefault(t.device, torch.Generator(device=t.device).manual_seed(seed))
        t.copy_(torch.randn(t.shape, generator=g, device=t.device).mul_(0.02).to(t))
    for m in model.modules():
        if isinstance(m, (VideoRopePosition3DEmb, FourierFeatures)): m.reset_parameters()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='7b', help="network preset: 7b, 14b or tiny")
    ap.add_argument('--latent', default='16,48,48', help="latent T,H,W: 16,48,48 = 384x384x121, 16,88,160 = 704x1280x121")
    ap.add_argument('--iters', type=int, default=10, help="timed iterations")
    ap.add_argument('--warmup', type=int, default=3, help="untimed iterations first")
    ap.add_argument('--backend', default='auto', help="attention backend: auto (flash-attn if installed, else SDPA), sdpa, flash")
    ap.add_argument('--precision', default='bf16', choices=['bf16', 'fp32'])
    ap.add_argument('--no-checkpoint', action='store_true', help="no activation checkpointing")
    ap.add_argument('--no-ema', action='store_true', help="no EMA (saves 4 bytes per parameter)")
    ap.add_argument('--act-offload', type=int, default=0, help="blocks whose checkpointed inputs wait in host memory: 0 none, k the first k, -1 all (fsdp.offload_activations)")
    ap.add_argument('--keep-attn', type=int, default=0, help="blocks whose self-attention output is kept for the backward (not recomputed): 0 none, k the last k, -1 all (fsdp.keep_attention)")
    ap.add_argument('--ema-offload', action='store_true', help="EMA in host memory, updated by a background thread (model.ema.offload=true)")
    ap.add_argument('--phases', action='store_true', help="also time forward+backward, clip+optimizer and the EMA update (synchronised)")
    ap.add_argument('--memory-cap', type=float, default=0, help="GiB: cap this process's CUDA caching allocator (torch.cuda.set_per_process_memory_fraction); it then unmaps cached blocks instead of growing past it")
    ap.add_argument('--mem-trace', action='store_true', help="record the CUDA allocations of the last timed step on rank 0 and print what is live at its peak")
    ap.add_argument('--sharding-group', type=int, default=32, help="fsdp.sharding_group_size (the reference: 32)")
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'train_step.json'))
    a = ap.parse_args()

    env = init_distributed(need_group=True)
    dev, cuda = env.device, env.device.type == 'cuda'
    dt = torch.bfloat16 if a.precision == 'bf16' else torch.float32
    T, H, W = map(int, a.latent.split(','))
    cfg = dit_config(a.preset, attn_backend=a.backend)
    tokens = T*(H//cfg.patch_spatial)*(W//cfg.patch_spatial)

    if a.memory_cap and cuda:
        torch.cuda.set_per_process_memory_fraction(min(1.0, a.memory_cap*2**30 / torch.cuda.get_device_properties(dev).total_memory), dev)
    t0 = time.perf_counter()
    with torch.device('meta'): model = DiffusionNet(cfg)
    mesh = fsdp_mesh(env, a.sharding_group)
    plan = MemoryPlan(checkpoint=not a.no_checkpoint, offload=a.act_offload, keep_attention=a.keep_attn).apply(model)   # as Trainer._make_model
    units = shard_model(model, mesh, dt, torch.float32)
    if env.is_main and units[-1].startswith('(gradients'): print(' ', units[-1], flush=True)
    model.to_empty(device=dev)
    random_init(model, seed=env.rank)
    opt = make_optimizer(model.parameters(), OptimizerConfig())
    sched = make_scheduler(opt, SchedulerConfig())
    ema = None if a.no_ema else PowerEMA(model, 0.1, offload=a.ema_offload)
    build_s = time.perf_counter() - t0

    rng = np.random.default_rng(env.rank)
    gen = torch.Generator(dev).manual_seed(env.rank)
    x0 = (torch.randn(1, cfg.in_channels, T, H, W, generator=gen, device=dev)*0.5).to(dt)
    cond = dict(crossattn_emb=torch.randn(1, 512, cfg.crossattn_emb_channels, generator=gen, device=dev).to(dt),
                fps=torch.full((1,), 24.0, device=dev, dtype=dt), padding_mask=torch.zeros(1, 1, H*8, W*8, device=dev, dtype=dt))
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    phases = {'forward': [], 'backward': [], 'clip+optimizer': [], 'ema': []}
    phase_peak = {n: 0.0 for n in phases}   # GiB: the peak of each phase (the overall peak is their max)
    def mark(name, t0):                      # --phases: synchronise, time each part and take its memory peak (adds sync points)
        if not a.phases: return t0
        sync(); t1 = time.perf_counter(); phases[name].append(t1 - t0)
        if cuda:
            phase_peak[name] = max(phase_peak[name], torch.cuda.max_memory_allocated(dev)/2**30)
            torch.cuda.reset_peak_memory_stats(dev)
        return t1

    def step(k):
        t0 = time.perf_counter()
        sigma = sample_sigma(1, rng)
        eps = torch.randn(x0.shape, generator=gen, device=dev).to(dt)
        out = edm_loss(model, model.logvar, x0, cond, sigma, eps)
        t0 = mark('forward', t0)
        out['loss'].backward()
        t0 = mark('backward', t0)
        gn = clip_grad_norm_(model.parameters(), 1.0)
        if ema is not None: ema.fence()
        opt.step(); sched.step()
        t0 = mark('clip+optimizer', t0)
        if ema is not None: ema.update(k)
        mark('ema', t0)
        opt.zero_grad(set_to_none=True)
        return out['loss'].detach(), gn

    def host_mem(where):                     # host memory as seen by rank 0 (pinned EMA/activation buffers live there)
        try:
            import psutil
            vm = psutil.virtual_memory()
            if env.is_main: print(f"  host memory {where}: {vm.used/2**30:.0f} GiB used, {vm.available/2**30:.0f} GiB available", flush=True)
        except ImportError: pass
    host_mem('after build')
    for k in range(a.warmup): step(k); host_mem(f'after warm-up step {k}')
    sync()
    for v in phases.values(): v.clear()
    for n in phase_peak: phase_peak[n] = 0.0
    if cuda: torch.cuda.reset_peak_memory_stats(dev)
    times = []
    trace = None
    for k in range(a.warmup, a.warmup + a.iters):
        if a.mem_trace and cuda and env.is_main and k == a.warmup + a.iters - 1:
            base = torch.cuda.memory_allocated(dev)
            torch.cuda.memory._record_memory_history(max_entries=1_000_000, stacks='python')
        t = time.perf_counter(); loss, gn = step(k); sync(); times.append(time.perf_counter() - t)
    if a.mem_trace and cuda and env.is_main:
        import sys; sys.path.insert(0, str(Path(__file__).resolve().parent))
        from memory_trace import summarise
        snap = torch.cuda.memory._snapshot(); torch.cuda.memory._record_memory_history(enabled=None)
        trace = summarise(snap, dev.index or 0, base)
        print(trace, flush=True)
    drain = 0.0                                  # the host-side EMA update of the last step, still running: it overlaps the
    if ema is not None:                          # next step in a run (each step waits for the previous one), so it is
        t = time.perf_counter(); ema.synchronize(); drain = time.perf_counter() - t   # reported apart, once per run
    s_iter = float(np.mean(times))
    free = torch.cuda.mem_get_info(dev)[0]/2**30 if cuda else float('nan')   # what the driver still has: the headroom
    pools = {}                                   # the caching allocator's reserve by stream (memory cached under one
    if cuda:                                     # stream cannot serve another stream's allocations)
        for g in torch.cuda.memory_snapshot():
            if g.get('device', dev.index) == (dev.index or 0):
                b = pools.setdefault(str(g['stream']), [0.0, 0.0]); b[0] += g['total_size']/2**30; b[1] += g['allocated_size']/2**30
        pools = {k: [round(v[0], 2), round(v[1], 2)] for k, v in pools.items()}
    peak = torch.cuda.max_memory_allocated(dev)/2**30 if cuda else float('nan')
    if a.phases and cuda: peak = max([peak] + list(phase_peak.values()))
    reserved = torch.cuda.max_memory_reserved(dev)/2**30 if cuda else float('nan')
    ms = torch.cuda.memory_stats(dev) if cuda else {}
    mine = dict(rank=env.rank, peak_alloc_gib=round(peak, 2), peak_reserved_gib=round(reserved, 2), gpu_free_gib_after=round(free, 2), reserved_by_stream_gib=pools,
                alloc_retries=ms.get('num_alloc_retries'), phases_s={n: round(float(np.mean(v)), 3) for n, v in phases.items() if v},
                phase_peak_gib={n: round(v, 2) for n, v in phase_peak.items() if phases[n]} if a.phases and cuda else {}, ema_drain_s=round(drain, 3), host_peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20, 1),
                s_per_iter=round(s_iter, 4), loss=float(loss), grad_norm=float(gn))
    allr = [None]*env.world_size
    dist.all_gather_object(allr, mine)
    if env.is_main:
        card = torch.cuda.get_device_name(dev) if cuda else (platform.processor() or 'cpu')
        g = sharding_group(env.world_size, a.sharding_group, env.local_world_size)
        res = dict(preset=a.preset, latent=[cfg.in_channels, T, H, W], tokens=tokens, world_size=env.world_size,
                   sharding=('full shard' if g == env.world_size else f'hybrid, groups of {g}'), device=card,
                   precision=a.precision, activation_checkpointing=not a.no_checkpoint, ema=not a.no_ema,
                   ema_offload=bool(a.ema_offload and not a.no_ema), activation_offload=a.act_offload, keep_attention=a.keep_attn, attention_kept_per_step=(plan.attention.kept/(a.warmup + a.iters) if a.keep_attn else None), memory_cap_gib=a.memory_cap or None, alloc_conf=os.environ.get('PYTORCH_CUDA_ALLOC_CONF', ''),
                   s_per_iter_all=[round(t, 3) for t in times],
                   attn_backend=a.backend, iters=a.iters, warmup=a.warmup, build_s=round(build_s, 1),
                   s_per_iter=round(max(r['s_per_iter'] for r in allr), 4),
                   tokens_per_s_per_gpu=round(tokens/max(r['s_per_iter'] for r in allr), 1),
                   peak_alloc_gib_per_gpu=[r['peak_alloc_gib'] for r in allr],
                   peak_reserved_gib_per_gpu=[r['peak_reserved_gib'] for r in allr],
                   gpu_memory_gib=round(torch.cuda.get_device_properties(dev).total_memory/2**30, 2) if cuda else None,
                   gpu_free_gib_after=[r['gpu_free_gib_after'] for r in allr],
                   per_rank=allr, torch=torch.__version__, date=time.strftime('%Y-%m-%d %H:%M'))
        print(f"{a.preset} latent {T}x{H}x{W} ({tokens} tokens), {env.world_size} x {card}, {res['sharding']}, "
              f"AC {'on' if not a.no_checkpoint else 'off'}{f' (inputs of {a.act_offload if a.act_offload > 0 else cfg.num_blocks} blocks in host memory)' if a.act_offload else ''}{f', self-attention kept in {a.keep_attn if a.keep_attn > 0 else cfg.num_blocks} blocks' if a.keep_attn else ''}, EMA {'off' if a.no_ema else 'on, in host memory' if a.ema_offload else 'on'}:")
        print(f"  {res['s_per_iter']:.3f} s/iter | {res['tokens_per_s_per_gpu']:.0f} tokens/s/GPU | peak alloc "
              f"{res['peak_alloc_gib_per_gpu']} GiB | peak reserved {res['peak_reserved_gib_per_gpu']} GiB | build {build_s:.0f} s")
        if cuda: print(f"  GPU memory {res['gpu_memory_gib']} GiB; left free (driver's count, after the run, the cache not emptied): {res['gpu_free_gib_after']} GiB")
        if cuda: print(f"  reserved by stream at the end, GiB [reserved, allocated] (rank 0; '0' is the compute stream): {allr[0]['reserved_by_stream_gib']}")
        if a.phases: print(f"  phases (rank 0, s): {allr[0]['phases_s']} | peak GiB per phase: {allr[0]['phase_peak_gib']}")
        if not a.no_ema and a.ema_offload: print(f"  host EMA update still running after the last step: {allr[0]['ema_drain_s']:.2f} s (overlaps the next step in a run)")
        print(f"  allocator retries (cudaMalloc after freeing the cache) {[r['alloc_retries'] for r in allr]} | host peak RSS "
              f"{[r['host_peak_rss_gib'] for r in allr]} GiB per rank")
        out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(out.read_text()) if out.exists() else []
        old = old if isinstance(old, list) else [old]
        out.write_text(json.dumps(old + [res], indent=1))
    if env.created: dist.destroy_process_group()


if __name__ == '__main__': main()
