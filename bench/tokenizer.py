"""Speed and peak memory of the CV8x8x8 video tokenizer's kernel variants (issue #4, point 5).

Builds the full 720p `Cosmos-Tokenize1-CV8x8x8` network of `cosmos_nb.tokenizer` with random weights (bf16, CUDA),
sets `torch.backends.cudnn.benchmark = True`, and for every kernel variant in `cosmos_nb.tokenizer_layers.KERNELS`
('reference' = the straightforward NCDHW path, 'fast' = the default, and the 'fast_*' alternatives), untiled, plus
the default variant tiled 512/128:

* warms the variant up with one encode and one decode at the FULL shape (cuDNN autotuning, allocator pools),
* times encode and decode as the median of `--repeats` synchronised calls, with the peak memory of each
  (`torch.cuda.max_memory_allocated` after a reset; weights and the input video included),
* checks the latent and the decoded video against the reference variant (relative L2 error; decoding always
  starts from the reference latent), so a broken variant shows up as a large error, not just as a fast time.

It prints a table with the baseline to beat (encode 0.52 s, decode 0.90 s on one H100), and writes
`bench/results/tokenizer.json` (card, torch/CUDA/cuDNN versions, command, all numbers). `--profile` also prints
torch.profiler's top 15 kernels by self CUDA time for one encode and one decode of the reference and of the
default variant.

    PYTHONPATH=. python bench/tokenizer.py --profile                 # the GPU run (~2 min on an H100)
    PYTHONPATH=. python bench/tokenizer.py --variants reference,fast --repeats 5
    PYTHONPATH=. python bench/tokenizer.py --device cpu --preset tiny --frames 17 --height 64 --width 96 \\
        --dtype fp32 --tiles 32:16 --out /tmp/tokenizer.json --profile   # CPU smoke test (no memory numbers)
"""
import argparse, json, math, platform, statistics, sys, time
from pathlib import Path
import torch
from cosmos_nb.config import TokenizerConfig
from cosmos_nb.tokenizer import VideoTokenizer
from cosmos_nb.tokenizer_layers import KERNELS, DEFAULT_KERNELS

GiB = 2 ** 30
BASELINE = dict(encode=0.52, decode=0.90)   # seconds, 1×3×121×704×1280 bf16 on one H100 (the issue's numbers)

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, default=121, help='video frames (= pixel_chunk_duration: one chunk)')
    p.add_argument('--height', type=int, default=704)
    p.add_argument('--width', type=int, default=1280)
    p.add_argument('--variants', default=','.join(KERNELS), help=f"comma-separated names from KERNELS ({', '.join(KERNELS)})")
    p.add_argument('--tiled-variants', default=DEFAULT_KERNELS, help="variants also timed with tiling ('' for none)")
    p.add_argument('--tiles', default='512:128', help='comma-separated tile:overlap pairs in pixels')
    p.add_argument('--repeats', type=int, default=3, help='timed calls per variant and direction (median reported)')
    p.add_argument('--profile', action='store_true', help='print the top 15 kernels of the reference and default variants')
    p.add_argument('--no-cudnn-benchmark', action='store_true', help='leave torch.backends.cudnn.benchmark off')
    p.add_argument('--preset', default='cv8x8x8_720p', help="architecture preset ('cv8x8x8_720p' or 'tiny')")
    p.add_argument('--dtype', default='bf16')
    p.add_argument('--device', default='cuda')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default=str(Path(__file__).resolve().parent / 'results' / 'tokenizer.json'))
    return p.parse_args(argv)

def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

def timed(fn, dev, repeats:int):
    "Run `fn()` `repeats` times; return the last output and {seconds (median), all, peak_gib (max), error}."
    cuda, times, peaks, out = dev.type == 'cuda', [], [], None
    try:
        for _ in range(repeats):
            out = None
            if cuda: torch.cuda.synchronize(dev); torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            out = fn(); sync(dev)
            times.append(time.perf_counter() - t0)
            if cuda: peaks.append(torch.cuda.max_memory_allocated(dev) / GiB)
        err = None
    except torch.cuda.OutOfMemoryError as e: err, out = f'OOM: {str(e).splitlines()[0]}', None
    except Exception as e: err, out = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}', None
    return out, dict(seconds=round(statistics.median(times), 4) if times else None, all=[round(t, 4) for t in times],
                     peak_gib=round(max(peaks), 3) if peaks else None, error=err)

def rel_err(a, b):
    if a is None or b is None: return None
    e = ((a.float() - b.float()).norm() / b.float().norm()).item()
    return float(f'{e:.3g}') if math.isfinite(e) else float('nan')

def fmt(x, spec='.3f'): return '—' if x is None else format(x, spec)

def top_kernels(fn, dev, n=15):
    "The `n` kernels (CUDA) or ops (CPU) with the largest self time in one call of `fn`, as (name, calls, ms, %)."
    from torch.profiler import profile, ProfilerActivity
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
    fn(); sync(dev)                                                         # not the first call of this variant
    with profile(activities=acts) as prof:
        fn(); sync(dev)
    evs = prof.key_averages()
    if dev.type == 'cuda':
        key = lambda e: getattr(e, 'self_device_time_total', None) or getattr(e, 'self_cuda_time_total', 0)
        evs = [e for e in evs if key(e) > 0]
        kernels = [e for e in evs if str(getattr(e, 'device_type', '')).endswith('CUDA')]
        evs = kernels or evs                                                # (ops, if this torch tags no kernels)
    else:
        key = lambda e: e.self_cpu_time_total
        evs = [e for e in evs if key(e) > 0]
    total = sum(key(e) for e in evs) or 1
    rows = sorted(evs, key=key, reverse=True)[:n]
    return dict(total_ms=round(total / 1e3, 3),
                top=[(e.key[:110], e.count, round(key(e) / 1e3, 3), round(100 * key(e) / total, 1)) for e in rows])

def print_profile(title, prof):
    print(f"\n{title}: {prof['total_ms']:.1f} ms of kernel time in all")
    print(f"{'ms':>9s} {'%':>5s} {'calls':>6s}  kernel")
    for name, calls, ms, pct in prof['top']: print(f"{ms:9.2f} {pct:5.1f} {calls:6d}  {name}")

def main(argv=None):
    a = parse_args(argv)
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available(): sys.exit('no CUDA device: use --device cpu for a smoke test')
    variants = [v for v in a.variants.split(',') if v]
    bad = [v for v in variants + [v for v in a.tiled_variants.split(',') if v] if v not in KERNELS]
    if bad: sys.exit(f"unknown variant(s) {bad}: choose from {', '.join(KERNELS)}")
    variants = sorted(variants, key=lambda v: v != 'reference')            # the reference first: it is the yardstick
    tiles = [tuple(int(v) for v in t.split(':')) for t in a.tiles.split(',') if t]
    modes = [(v, None, None) for v in variants] + [(v, t, o) for v in a.tiled_variants.split(',') if v for t, o in tiles]
    if dev.type == 'cuda' and not a.no_cudnn_benchmark: torch.backends.cudnn.benchmark = True
    print(f"torch.backends.cudnn.benchmark = {torch.backends.cudnn.benchmark}")

    torch.manual_seed(a.seed)
    cfg = TokenizerConfig(preset=a.preset, pixel_chunk_duration=a.frames, dtype=a.dtype)
    with torch.device(dev): tok = VideoTokenizer(cfg)
    n_params = sum(p.numel() for p in tok.parameters())
    card = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or 'cpu'
    video = torch.rand(1, 3, a.frames, a.height, a.width, device=dev, dtype=tok.dtype) * 2 - 1
    head = (f"card: {card} | torch {torch.__version__} | video 1×3×{a.frames}×{a.height}×{a.width} {a.dtype} | "
            f"{a.preset}: {n_params/1e6:.1f} M params | median of {a.repeats} after a full-size warm-up")
    print(head, flush=True)

    rows, z_ref, x_ref, t_start = [], None, None, time.perf_counter()
    for v, t, o in modes:
        name = v if t is None else f"{v} tiled {t}/{o}"
        tok.set_kernels(v)
        tok.enable_tiling(t, o) if t else tok.disable_tiling()
        enc, dec, z, x, err = {}, {}, None, None, None
        try:
            z = tok.encode(video); sync(dev)                                 # warm-up at the full shape
            x = tok.decode(z_ref if z_ref is not None else z); sync(dev)
            del z, x
            z, enc = timed(lambda: tok.encode(video), dev, a.repeats)
            src = z_ref if z_ref is not None else z
            x, dec = timed(lambda: tok.decode(src), dev, a.repeats) if src is not None else (None, dict(error='no latent'))
        except torch.cuda.OutOfMemoryError as e: err = f'OOM: {str(e).splitlines()[0]}'
        except Exception as e: err = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'   # keep going
        if err: z = x = None
        if v == 'reference' and t is None: z_ref, x_ref = z, x
        row = dict(variant=v, mode=name, tile=t, overlap=o, encode=enc, decode=dec, error=err,
                   latent_shape=None if z is None else list(z.shape),
                   latent_rel_err=None if z_ref is None or (v == 'reference' and t is None) else rel_err(z, z_ref),
                   video_rel_err=None if x_ref is None or (v == 'reference' and t is None) else rel_err(x, x_ref))
        rows.append(row)
        print(f"  {name:24s} encode {fmt(enc.get('seconds'))} s, decode {fmt(dec.get('seconds'))} s, "
              f"errors {fmt(row['latent_rel_err'], '.2e')} / {fmt(row['video_rel_err'], '.2e')}"
              + (f"  [{err or enc.get('error') or dec.get('error')}]" if err or enc.get('error') or dec.get('error') else ''),
              flush=True)
        del z, x
        if dev.type == 'cuda': torch.cuda.empty_cache()

    profiles = {}
    if a.profile:
        tok.disable_tiling()
        src = z_ref if z_ref is not None else tok.encode(video)
        for v in dict.fromkeys(['reference', DEFAULT_KERNELS]):
            tok.set_kernels(v)
            try: profiles[v] = dict(encode=top_kernels(lambda: tok.encode(video), dev),
                                    decode=top_kernels(lambda: tok.decode(src), dev))
            except Exception as e: print(f"profile of {v} failed: {type(e).__name__}: {e}")
            if dev.type == 'cuda': torch.cuda.empty_cache()
    tok.set_kernels(DEFAULT_KERNELS)

    print('\n' + head)
    print(f"{'variant':24s} | {'encode s':>8s} | {'enc GiB':>7s} | {'decode s':>8s} | {'dec GiB':>7s} | "
          f"{'latent err':>10s} | {'video err':>10s} | {'enc/base':>8s} | {'dec/base':>8s}")
    for r in rows:
        e, d = r['encode'], r['decode']
        ratio = lambda s, b: None if s is None else s / b
        print(f"{r['mode']:24s} | {fmt(e.get('seconds')):>8s} | {fmt(e.get('peak_gib'), '.2f'):>7s} | "
              f"{fmt(d.get('seconds')):>8s} | {fmt(d.get('peak_gib'), '.2f'):>7s} | {fmt(r['latent_rel_err'], '.2e'):>10s} | "
              f"{fmt(r['video_rel_err'], '.2e'):>10s} | {fmt(ratio(e.get('seconds'), BASELINE['encode']), '.2f'):>8s} | "
              f"{fmt(ratio(d.get('seconds'), BASELINE['decode']), '.2f'):>8s}")
    print(f"{'baseline (issue #4)':24s} | {BASELINE['encode']:8.3f} | {'~30':>7s} | {BASELINE['decode']:8.3f} | {'~30':>7s} |"
          f"  (ratios < 1 beat it)")
    print("errors vs the reference: up to ~0.03 in bf16 is rounding (the fast variants should agree with each other), "
          "> 0.1 on an untiled row means a broken variant; tiled rows also carry the tiling error (~1e-2 at 720p)")
    for v, pr in profiles.items():
        for d in ('encode', 'decode'): print_profile(f"{v} {d}", pr[d])
    wall = time.perf_counter() - t_start
    print(f"\nbenchmark wall time {wall:.0f} s")

    res = dict(benchmark='tokenizer', card=card, device=str(dev), torch=torch.__version__, cuda=torch.version.cuda,
               cudnn=torch.backends.cudnn.version() if dev.type == 'cuda' else None,
               cudnn_benchmark=torch.backends.cudnn.benchmark, preset=a.preset, dtype=a.dtype, params=n_params,
               video_shape=[1, 3, a.frames, a.height, a.width], weights_init='random (PyTorch default init)',
               repeats=a.repeats, baseline_seconds=BASELINE, default_kernels=DEFAULT_KERNELS,
               kernels={v: KERNELS[v].__dict__ for v in dict.fromkeys(m[0] for m in modes)},
               results=rows, profiles=profiles, wall_seconds=round(wall, 1),
               command=' '.join(['PYTHONPATH=. python', 'bench/tokenizer.py'] + (sys.argv[1:] if argv is None else list(argv))))
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(f"wrote {out}")
    return res

if __name__ == '__main__': main()
