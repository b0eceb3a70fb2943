"""Summarise a CUDA memory-history snapshot: what is live at the peak, grouped by the allocating code.

Used by `bench/train_step.py --mem-trace`; also runnable on a saved snapshot: `python bench/memory_trace.py snap.pickle`.
Known problem: on torch 2.11 (H100 machine) recording Python stacks made an autograd Function's `apply` fail with
"SystemError: ... returned NULL without setting an exception" once the DiT's lean training path was in; the first
trace (before it) worked.
"""
import collections, pickle, sys


def _where(frames, roots=('cosmos_nb/', 'torch/distributed/fsdp', 'torch/utils/checkpoint', 'torch/nn/functional', 'torch/optim')):
    "The innermost frame from our code (or a named torch part), with the innermost frame overall."
    if not frames: return '<no Python stack: autograd engine (C++ backward)>'
    inner = f"{frames[0]['filename'].split('site-packages/')[-1]}:{frames[0]['line']} {frames[0]['name']}"
    for f in frames:
        fn = f['filename']
        if any(r in fn for r in roots):
            own = f"{fn.split('site-packages/')[-1].split('/work/')[-1]}:{f['line']} {f['name']}"
            return own if own == inner else f"{own}  <- {inner}"
    return inner


def summarise(snap, device:int=0, base_bytes:int=0, top:int=25) -> str:
    "Replay the allocation events of `device`, find the peak and list what is live then (by allocating code)."
    ev = snap['device_traces'][device]
    live, cur, peak, peak_i = {}, 0, 0, -1
    for i, e in enumerate(ev):
        a = e['action']
        if a == 'alloc': live[e['addr']] = e; cur += e['size']
        elif a in ('free_completed',):
            if e['addr'] in live: cur -= live.pop(e['addr'])['size']
        if cur > peak: peak, peak_i = cur, i
    live = {}
    for e in ev[:peak_i + 1]:
        if e['action'] == 'alloc': live[e['addr']] = e
        elif e['action'] == 'free_completed': live.pop(e['addr'], None)
    groups = collections.defaultdict(lambda: [0, 0, collections.Counter()])
    for e in live.values():
        g = groups[_where(e.get('frames', []))]; g[0] += e['size']; g[1] += 1; g[2][e['size']] += 1
    lines = [f"peak during the traced step: {(base_bytes + peak)/2**30:.2f} GiB allocated = {base_bytes/2**30:.2f} GiB live "
             f"before the trace started + {peak/2**30:.2f} GiB allocated in it (event {peak_i} of {len(ev)}); live then:"]
    for k, (b, n, sizes) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:top]:
        common = ', '.join(f"{c}×{s/2**20:.0f} MiB" for s, c in sizes.most_common(3))
        lines.append(f"  {b/2**30:7.2f} GiB  {n:5d} blocks ({common})  {k}")
    segs = [g for g in snap.get('segments', []) if g.get('device', device) == device]
    if segs:                                   # the caching allocator's pools at the end of the step, by stream
        by = collections.defaultdict(lambda: [0, 0, 0])
        for g in segs: b = by[g.get('stream', 0)]; b[0] += g['total_size']; b[1] += g['allocated_size']; b[2] += 1
        lines.append("reserved at the end of the step, by stream (reserved / allocated in it / segments):")
        for st, (tot, al, n) in sorted(by.items(), key=lambda kv: -kv[1][0]):
            lines.append(f"  stream {st}: {tot/2**30:.2f} / {al/2**30:.2f} GiB in {n} segments")
    return '\n'.join(lines)


if __name__ == '__main__':
    print(summarise(pickle.load(open(sys.argv[1], 'rb'))))
