"""Peak GPU memory and time of the CV8x8x8 video tokenizer, with and without spatial tiling.

Builds the full 720p `Cosmos-Tokenize1-CV8x8x8` network of `cosmos_nb.tokenizer` with random weights (bf16, CUDA),
encodes and decodes a random 1×3×121×704×1280 video untiled and with a few tile sizes, prints a table of peak
memory (`torch.cuda.max_memory_allocated`) and wall time, and writes `bench/results/tokenizer_memory.json`.
Each tiled mode is also compared with the untiled result (relative L2 error of the latent and of the decoded video;
random weights, so only indicative). Decoding always starts from the untiled latent.

    PYTHONPATH=. python bench/tokenizer_memory.py
    PYTHONPATH=. python bench/tokenizer_memory.py --device cpu --preset tiny --frames 17 --height 64 --width 96 \
        --tiles 32:16 --dtype fp32 --out /tmp/tokenizer_memory.json     # CPU smoke test (no memory numbers)
"""
import argparse, json, math, platform, sys, time
from pathlib import Path
import torch
from cosmos_nb.config import TokenizerConfig
from cosmos_nb.tokenizer import VideoTokenizer

GiB = 2 ** 30

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, default=121, help='video frames (= pixel_chunk_duration: one chunk)')
    p.add_argument('--height', type=int, default=704)
    p.add_argument('--width', type=int, default=1280)
    p.add_argument('--tiles', default='512:128,256:64', help='comma-separated tile:overlap pairs in pixels')
    p.add_argument('--preset', default='cv8x8x8_720p', help="architecture preset ('cv8x8x8_720p' or 'tiny')")
    p.add_argument('--dtype', default='bf16')
    p.add_argument('--device', default='cuda')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-warmup', action='store_true', help='skip the small warm-up pass')
    p.add_argument('--out', default=str(Path(__file__).resolve().parent / 'results' / 'tokenizer_memory.json'))
    return p.parse_args(argv)

def measure(fn, dev):
    "Run `fn()`; return its output and {seconds, peak_gib, peak_above_start_gib, error}."
    cuda = dev.type == 'cuda'
    if cuda: torch.cuda.synchronize(dev); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(dev)
    start = torch.cuda.memory_allocated(dev) if cuda else 0
    t0, out, err = time.perf_counter(), None, None
    try:
        out = fn()
        if cuda: torch.cuda.synchronize(dev)
    except torch.cuda.OutOfMemoryError as e: err = f'OOM: {str(e).splitlines()[0]}'
    dt = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(dev) if cuda else None
    return out, dict(seconds=round(dt, 3), peak_gib=None if peak is None else round(peak / GiB, 3),
                     peak_above_start_gib=None if peak is None else round((peak - start) / GiB, 3), error=err)

def rel_err(a, b):
    if a is None or b is None: return None
    e = ((a.float() - b.float()).norm() / b.float().norm()).item()
    return round(e, 5) if math.isfinite(e) else None

def fmt(x, spec='.2f'): return '—' if x is None else format(x, spec)

def main(argv=None):
    a = parse_args(argv)
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available(): sys.exit('no CUDA device: use --device cpu for a smoke test')
    torch.manual_seed(a.seed)
    cfg = TokenizerConfig(preset=a.preset, pixel_chunk_duration=a.frames, dtype=a.dtype)
    with torch.device(dev): tok = VideoTokenizer(cfg)
    weights = torch.cuda.memory_allocated(dev) / GiB if dev.type == 'cuda' else None
    n_params = sum(p.numel() for p in tok.parameters())
    card = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or 'cpu'
    tiles = [tuple(int(v) for v in t.split(':')) for t in a.tiles.split(',') if t]
    modes = [('untiled', None, None)] + [(f'tiled {t}/{o}', t, o) for t, o in tiles]

    if not a.no_warmup:   # kernels, cuDNN heuristics and allocator pools, on a small clip
        w = torch.rand(1, 3, a.frames, 64, 128, device=dev, dtype=tok.dtype) * 2 - 1
        tok.decode(tok.encode(w)); del w
    video = torch.rand(1, 3, a.frames, a.height, a.width, device=dev, dtype=tok.dtype) * 2 - 1

    rows, z_ref, x_ref = [], None, None
    for name, t, o in modes:
        tok.enable_tiling(t, o) if t else tok.disable_tiling()
        z, enc = measure(lambda: tok.encode(video), dev)
        if z_ref is None and t is None: z_ref = z
        src = z_ref if z_ref is not None else z
        if src is None: x, dec = None, dict(error='no latent to decode')
        else: x, dec = measure(lambda: tok.decode(src), dev)
        if x_ref is None and t is None: x_ref = x
        rows.append(dict(mode=name, tile=t, overlap=o, encode=enc, decode=dec,
                         latent_shape=None if z is None else list(z.shape),
                         latent_rel_err=None if t is None else rel_err(z, z_ref),
                         video_rel_err=None if t is None else rel_err(x, x_ref)))
        del z, x

    head = (f"card: {card} | torch {torch.__version__} | video 1×3×{a.frames}×{a.height}×{a.width} {a.dtype} | "
            f"{a.preset}: {n_params/1e6:.1f} M params" + (f", weights {weights:.2f} GiB" if weights is not None else ''))
    print(head)
    print(f"{'mode':16s} {'enc peak GiB':>12s} {'enc s':>7s} {'dec peak GiB':>12s} {'dec s':>7s} {'latent err':>10s} {'video err':>10s}")
    for r in rows:
        e, d = r['encode'], r['decode']
        print(f"{r['mode']:16s} {fmt(e.get('peak_gib')):>12s} {fmt(e.get('seconds')):>7s} {fmt(d.get('peak_gib')):>12s} "
              f"{fmt(d.get('seconds')):>7s} {fmt(r['latent_rel_err'], '.4f'):>10s} {fmt(r['video_rel_err'], '.4f'):>10s}"
              + ''.join(f"  [{k}: {v['error']}]" for k, v in (('encode', e), ('decode', d)) if v.get('error')))

    res = dict(benchmark='tokenizer_memory', card=card, device=str(dev), torch=torch.__version__,
               cuda=torch.version.cuda, preset=a.preset, dtype=a.dtype, params=n_params,
               weights_gib=None if weights is None else round(weights, 3),
               video_shape=[1, 3, a.frames, a.height, a.width], weights_init='random (PyTorch default init)',
               warmup=not a.no_warmup, results=rows, command=' '.join(['python', 'bench/tokenizer_memory.py'] + (argv or sys.argv[1:])))
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(f"wrote {out}")
    return res

if __name__ == '__main__': main()
