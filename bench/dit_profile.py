"""Where the DiT forward's time goes on one GPU, and how close it is to the kernels it cannot avoid.

For the 7B network at the 704x1280x121 latent (56,320 tokens, bf16, random weights) this script
1. times each unavoidable kernel alone at its shape (self-attention, cross-attention, the block's seven projections and
   the MLP's two) and adds them up for 28 blocks: the *floor* of a forward with these kernels;
2. times the eager and the compiled (`MemoryPlan(compile=True)`) forward and splits one profiled forward's GPU time into
   attention, GEMM, fused (Triton) and other kernels;
3. times compiled variants: inductor emulating eager's bf16 rounding (`emulate_precision_casts`), and float8 projections
   (`--fp8`, torchao), each with its relative error against the eager forward, and against an fp32 forward of the same
   weights at a quarter of the tokens (16x44x80).

    python bench/dit_profile.py [--fp8]
    python bench/dit_profile.py --preset tiny --device cpu --latent 2,8,8     # smoke test (no profile, no floor)

Prints a table and writes bench/results/dit_profile.json.
"""
import argparse, copy, json, time
from pathlib import Path
import torch, torch.nn.functional as F
from cosmos_nb.config import dit_config
from cosmos_nb.dit import attention
from cosmos_nb.memory import MemoryPlan
from dit_forward import forward_flops, random_dit, timed


def kind(name:str) -> str:
    "The kind of a CUDA kernel, from its name."
    n = name.lower()
    if any(s in n for s in ('sdpa', 'fmha', 'flash', 'attention')): return 'attention'
    if n.startswith('triton'): return 'fused (triton)'
    if any(s in n for s in ('gemm', 'nvjet', 'xmma', 'cutlass', 'cublas', 'matmul', 'f8f8')): return 'gemm'
    return 'other'


def profile(fn, device) -> dict:
    "GPU milliseconds of one call of `fn` by kernel kind, and the ten longest kernels."
    from torch.profiler import profile as prof_, ProfilerActivity
    fn(); torch.cuda.synchronize(device)
    with prof_(activities=[ProfilerActivity.CUDA]) as p:
        fn(); torch.cuda.synchronize(device)
    by, top = {}, {}
    for e in p.events():
        if e.device_type != torch.autograd.DeviceType.CUDA: continue
        us = e.time_range.elapsed_us()
        by[kind(e.name)] = by.get(kind(e.name), 0.) + us / 1e3
        top[e.name[:110]] = top.get(e.name[:110], 0.) + us / 1e3
    return dict(ms_by_kind=by, total_ms=sum(by.values()), top=sorted(top.items(), key=lambda kv: -kv[1])[:10])


def floor(cfg, L, device, dtype, M=512, reps=5) -> dict:
    "Milliseconds of each unavoidable kernel of one block, alone, and their sum over the network."
    D, Dh, Fd = cfg.model_channels, cfg.model_channels // cfg.num_heads, int(cfg.model_channels * cfg.mlp_ratio)
    h = cfg.num_heads
    def ms(fn):
        fn(); torch.cuda.synchronize(device)
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(reps): fn()
        e1.record(); torch.cuda.synchronize(device)
        return e0.elapsed_time(e1) / reps
    q = torch.randn(1, L, h, Dh, device=device, dtype=dtype)
    k, v = torch.randn_like(q), torch.randn_like(q)
    kc = torch.randn(1, M, h, Dh, device=device, dtype=dtype); vc = torch.randn_like(kc)
    x, xf = torch.randn(L, D, device=device, dtype=dtype), torch.randn(L, Fd, device=device, dtype=dtype)
    w, wu, wd = (torch.randn(*s, device=device, dtype=dtype) * 0.02 for s in ((D, D), (Fd, D), (D, Fd)))
    with torch.no_grad():
        qt, kt, vt = (t.transpose(1, 2).contiguous() for t in (q, k, v))
        r = dict(self_attention=ms(lambda: attention(q, k, v, 'sdpa')),
                 self_attention_heads_major=ms(lambda: F.scaled_dot_product_attention(qt, kt, vt)), cross_attention=ms(lambda: attention(q, kc, vc, 'sdpa')),
                 proj_DxD=ms(lambda: F.linear(x, w)), mlp_up=ms(lambda: F.linear(x, wu)), mlp_down=ms(lambda: F.linear(xf, wd)))
        a = torch.randn(8192, 8192, device=device, dtype=dtype); b = torch.randn_like(a)
        r['matmul_8192_tflops'] = 2 * 8192**3 / ms(lambda: a @ b) / 1e9
    r['self_attention_tflops'] = 4 * L * L * D / r['self_attention'] / 1e9
    r['gemm_tflops'] = (6 * 2*L*D*D + 2 * 2*L*D*Fd) / (6*r['proj_DxD'] + r['mlp_up'] + r['mlp_down']) / 1e9
    r['block_ms'] = r['self_attention'] + r['cross_attention'] + 6*r['proj_DxD'] + r['mlp_up'] + r['mlp_down']
    r['network_s'] = cfg.num_blocks * r['block_ms'] / 1e3
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='7b')
    ap.add_argument('--latent', default='16,88,160', help="latent T,H,W (704x1280x121 -> 16,88,160)")
    ap.add_argument('--steps', type=int, default=2)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--fp8', action='store_true', help="also the compiled forward with float8 projections (torchao)")
    ap.add_argument('--no-emulate', action='store_true', help="skip the emulate_precision_casts row")
    ap.add_argument('--no-fp32', action='store_true', help="skip the error against fp32 (saves a second compile per row)")
    ap.add_argument('--no-floor', action='store_true', help="skip the kernels-alone floor")
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'dit_profile.json'))
    a = ap.parse_args()
    device, dtype = torch.device(a.device), torch.bfloat16
    cuda = device.type == 'cuda'
    T, H, W = map(int, a.latent.split(','))
    cfg = dit_config(a.preset)
    net, (x, c, t5, fps) = random_dit(cfg, 1, T, H, W, device, dtype); net.requires_grad_(False)
    flops, L = forward_flops(cfg, 1, T, H, W)
    fwd = lambda: net(x, c, t5, fps=fps)
    xs = x[..., :max(H//2, 2), :max(W//2, 2)].contiguous()       # a quarter of the tokens: for the error against fp32
    def fp32_reference():
        net32 = copy.deepcopy(net).float()                      # the same (bf16-rounded) weights, computed in fp32
        with torch.no_grad(): return net32(xs.float(), c.float(), t5.float(), fps=fps.float()).float()
    ref32 = None if a.no_fp32 else fp32_reference()
    card = torch.cuda.get_device_name(device) if cuda else 'cpu'
    res = dict(card=card, torch=torch.__version__, preset=a.preset, latent=[1, cfg.in_channels, T, H, W], tokens=L,
               forward_flops=flops, rows={})
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    save = lambda: out.write_text(json.dumps(dict(res, when=time.strftime('%Y-%m-%d %H:%M:%S')), indent=1))
    if cuda and not a.no_floor:
        f = res['floor'] = floor(cfg, L, device, dtype)
        print(f"floor (each kernel alone, x{cfg.num_blocks} blocks): {f['network_s']:.3f} s; self-attention {f['self_attention']:.1f} ms "
              f"({f['self_attention_tflops']:.0f} TFLOP/s; heads-major inputs {f['self_attention_heads_major']:.1f} ms), "
              f"GEMMs {f['gemm_tflops']:.0f} TFLOP/s, 8192^3 matmul {f['matmul_8192_tflops']:.0f} TFLOP/s", flush=True)

    def row(name, ref=None):
        with torch.no_grad():
            t0 = time.perf_counter(); fwd(); cuda and torch.cuda.synchronize(device); first = time.perf_counter() - t0   # the first call compiles
            sec = timed(fwd, a.steps, 1, device)
            r = dict(seconds=sec, tflops=flops / sec / 1e12, first_call_s=first)
            y = fwd().float()
            if ref is not None: r['rel_err_vs_eager'] = float((y - ref).norm() / ref.norm())
            if ref32 is not None:
                ys = net(xs, c, t5, fps=fps).float()
                r['rel_err_vs_fp32_quarter'] = float((ys - ref32).norm() / ref32.norm())
            if cuda: r['profile'] = profile(fwd, device)
        res['rows'][name] = r; save()
        print(f"{name:34s} {sec:8.3f} s  {r['tflops']:6.1f} TFLOP/s  first call {first:.0f} s"
              + (f", rel.err vs fp32 (1/4 tokens) {r['rel_err_vs_fp32_quarter']:.2e}" if ref32 is not None else '')
              + (f", vs eager {r['rel_err_vs_eager']:.2e}" if ref is not None else ''), flush=True)
        return y

    ye = row('eager')
    MemoryPlan(compile=True).apply(net); row('compiled', ye)
    if not a.no_emulate:
        import torch._inductor.config as ic
        ic.emulate_precision_casts = True; torch._dynamo.reset()
        MemoryPlan(compile=True).apply(net); row('compiled, emulate_precision_casts', ye)
        ic.emulate_precision_casts = False; torch._dynamo.reset()
    if a.fp8:
        from cosmos_nb.fp8 import to_fp8_inference
        MemoryPlan().apply(net); to_fp8_inference(net); MemoryPlan(compile=True).apply(net)
        row('compiled, float8 projections', ye)

    print(f"\n{a.preset} DiT forward, {L:,} tokens, bf16, on {card}; model FLOPs {flops/1e15:.3f} P")
    if cuda:
        kinds = ['attention', 'gemm', 'fused (triton)', 'other']
        print(f"\n{'forward':34s} {'s':>7s} " + ' '.join(f'{k:>15s}' for k in kinds) + '   (GPU ms)')
        for n, r in res['rows'].items():
            p = r['profile']['ms_by_kind']
            print(f"{n:34s} {r['seconds']:7.3f} " + ' '.join(f"{p.get(k, 0.):15.1f}" for k in kinds))
    save(); print(f"wrote {out}")


if __name__ == '__main__':
    main()
