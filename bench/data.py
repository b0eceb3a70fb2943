"""How fast the video data pipeline delivers 121-frame 720×1280 training samples on CPU, and how many loader workers
keep one GPU's training step fed.

Writes a few synthetic 720p clips (moving textured content, h264 through mediapy) in the seed's dataset layout, then
times `VideoDataset` through a `torch.utils.data.DataLoader` (batch 1, as every T2W experiment) with 0, 1, 2, …
workers: decord decode of 121 frames + antialiased resize + T5 embedding read. Prints a table and writes
bench/results/data_loader.json.

    python bench/data.py                      # 3 clips of 145 frames at 1280x720, workers 0,1,2
    python bench/data.py --workers 0,1,2,4 --clips 4

A GPU needs one sample per training step (batch 1): the 7B full post-training step is 19 s at 720p on 8 × H100
(the seed's log) and about 10–20 s per GPU in our runs, so a loader that yields a sample in well under that time on
one worker is not the bottleneck; `workers_needed` below is seconds-per-sample / step-seconds, rounded up.
"""
import argparse, json, math, os, platform, tempfile, time
from pathlib import Path
import numpy as np
import torch

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--clips', type=int, default=3)
    ap.add_argument('--frames', type=int, default=145, help='frames per clip (≥ 121)')
    ap.add_argument('--workers', default='0,1,2')
    ap.add_argument('--samples', type=int, default=6, help='samples timed per setting (after one warm-up)')
    ap.add_argument('--step_seconds', default='10,19', help='GPU training-step times to compare with')
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'data_loader.json'))
    a = ap.parse_args()
    from cosmos_nb.core import make_toy_video, write_video
    from cosmos_nb.data import VideoDataset
    from cosmos_nb.text import write_t5_embedding
    root = Path(tempfile.mkdtemp(prefix='cosmos_nb_data_bench_'))
    t0 = time.time()
    for i in range(a.clips):
        write_video(root/'videos'/f'clip_{i:03d}.mp4', make_toy_video(a.frames, 720, 1280, seed=i), fps=24)
        write_t5_embedding(root/'t5_xxl'/f'clip_{i:03d}.pickle', np.random.default_rng(i).standard_normal((12, 1024)).astype(np.float16))
    print(f"wrote {a.clips} clips of {a.frames} frames at 1280x720 in {time.time() - t0:.1f} s")
    ds = VideoDataset(root, sequence_interval=1, num_frames=121, video_size=(720, 1280), start_frame_interval=1)
    steps = [float(s) for s in a.step_seconds.split(',')]
    res = dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
               num_frames=121, video_size=[720, 1280], dataset=repr(ds), rows=[])
    print(f"{res['cores']} CPU cores, torch {torch.__version__}: {ds}")
    print(f"{'workers':>7} {'samples/s':>10} {'s/sample':>9}  " + '  '.join(f'workers for {s:g} s step' for s in steps))
    g = torch.Generator().manual_seed(0)
    for w in map(int, a.workers.split(',')):
        dl = torch.utils.data.DataLoader(ds, batch_size=1, shuffle=True, generator=g, num_workers=w, persistent_workers=False)
        it = iter(dl); next(it)                                          # warm-up (worker start, first decode)
        t0 = time.time()
        for _ in range(a.samples): b = next(it)
        dt = (time.time() - t0)/a.samples
        assert b['video'].shape == (1, 3, 121, 720, 1280) and b['video'].dtype == torch.uint8
        row = dict(workers=w, samples_per_s=round(1/dt, 3), s_per_sample=round(dt, 3),
                   workers_needed={f'{s:g}s_step': max(1, math.ceil(dt/s)) for s in steps})
        res['rows'].append(row); del it, dl
        print(f"{w:>7} {1/dt:>10.2f} {dt:>9.2f}  " + '  '.join(f"{row['workers_needed'][f'{s:g}s_step']:>21}" for s in steps))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")

if __name__ == '__main__': main()
