"""What context parallelism costs when its group has one rank: the DiT forward with `ContextParallel` over a 1-rank
process group against the plain DiT, alternated in one run on one device (bf16, random weights, no_grad).

Default: the 7B network at the 704x1280x121 generation latent [1,16,16,88,160] (56,320 tokens), torch SDPA attention.
Prints a table and writes bench/results/cp_overhead.json.

    python bench/cp_overhead.py                                            # 7B, 16x88x160, on a GPU
    python bench/cp_overhead.py --preset tiny --device cpu --latent 2,8,8 --steps 2 --rounds 2   # smoke test

Each round times `--steps` forwards of the plain model, then `--steps` with the plan (and back, alternating which
goes first), after one warm-up forward of each; the ratio is of the medians over the rounds. The outputs of the two
must be bit-identical (the plan with one rank runs the same kernels on the same tensors).
"""
import argparse, json, os, platform, statistics, time
from pathlib import Path
import torch
import torch.distributed as dist
from cosmos_nb.config import dit_config
from cosmos_nb.dit import GeneralDIT
from cosmos_nb.parallel import ContextParallel, init_distributed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='7b', help="network preset: 7b, 14b or tiny")
    ap.add_argument('--latent', default='16,88,160', help="latent T,H,W (704x1280x121 -> 16,88,160)")
    ap.add_argument('--backend', default='sdpa', help="attention backend: sdpa, flash, cudnn, auto")
    ap.add_argument('--steps', type=int, default=2, help="forwards per timing")
    ap.add_argument('--rounds', type=int, default=3, help="timings of each, alternated")
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'cp_overhead.json'))
    a = ap.parse_args()

    if a.device == 'cpu': os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')
    env = init_distributed(need_group=True)                                  # a 1-rank group (NCCL on a GPU, gloo on a CPU)
    device = env.device
    cuda = device.type == 'cuda'
    dtype = torch.bfloat16
    T, H, W = map(int, a.latent.split(','))
    cfg = dit_config(a.preset, attn_backend=a.backend)
    with torch.device('meta'): net = GeneralDIT(cfg)
    net = net.to(dtype).to_empty(device=device)
    net.init_weights()
    net.eval().requires_grad_(False)
    torch.manual_seed(0)
    x = torch.randn(1, cfg.in_channels, T, H, W, device=device, dtype=dtype)
    c = torch.full((1,), 0.5, device=device, dtype=dtype)
    t5 = torch.randn(1, 512, cfg.crossattn_emb_channels, device=device, dtype=dtype)
    fps = torch.full((1,), 24.0, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    plan = ContextParallel(dist.group.WORLD)

    def use(on:bool):
        (plan if on else ContextParallel(None)).apply(net)
        assert (net.context_parallel is not None) == on

    @torch.no_grad()
    def timed(on:bool) -> float:
        use(on); sync(); t0 = time.perf_counter()
        for _ in range(a.steps): y = net(x, c, t5, fps=fps)
        sync()
        return (time.perf_counter() - t0)/a.steps

    with torch.no_grad():
        use(False); y0 = net(x, c, t5, fps=fps)                                 # warm-up, and the outputs compared
        use(True); y1 = net(x, c, t5, fps=fps)
    identical = bool(torch.equal(y0, y1))
    times = {'plain': [], 'cp1': []}
    for r in range(a.rounds):
        order = ('plain', 'cp1') if r % 2 == 0 else ('cp1', 'plain')
        for k in order: times[k].append(timed(k == 'cp1'))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med['cp1']/med['plain']
    card = torch.cuda.get_device_name(device) if cuda else (platform.processor() or 'cpu')
    L = (T//cfg.patch_temporal)*(H//cfg.patch_spatial)*(W//cfg.patch_spatial)
    print(f"\nCosmos DiT {a.preset}, latent [1,16,{T},{H},{W}] = {L:,} tokens, bf16, attention {a.backend}, forward, on {card}")
    print(f"plan: {plan!r}; outputs bit-identical: {identical}\n")
    print(f"{'model':8s} {'median s':>9s}   per round")
    for k in ('plain', 'cp1'): print(f"{k:8s} {med[k]:9.3f}   {' '.join(f'{t:.3f}' for t in times[k])}")
    print(f"\nwith the 1-rank plan / plain: {ratio:.4f}")
    res = dict(card=card, torch=torch.__version__, cuda=torch.version.cuda, preset=a.preset, latent=[1, cfg.in_channels, T, H, W],
               tokens=L, dtype='bf16', attn_backend=a.backend, steps=a.steps, rounds=a.rounds, plan=repr(plan),
               outputs_identical=identical, seconds=times, median_s=med, ratio_cp1_to_plain=ratio,
               command='python bench/cp_overhead.py ' + ' '.join(f'--{k} {v}' for k, v in vars(a).items() if k != 'out'),
               when=time.strftime('%Y-%m-%d %H:%M:%S'))
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(f"wrote {out}")
    assert identical, "the 1-rank plan changed the output"
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
