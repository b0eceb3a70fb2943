"""Which CUDA kernel `scaled_dot_product_attention` runs for the DiT's attention shape, by default and with each
backend forced, and how fast (issue #3, point 5: prefer cuDNN attention on Hopper).

    PYTHONPATH=. python bench/sdpa_kernels.py                    # [1, 32, 56320, 128] bf16 = the 7B at 704x1280x121

Prints, per choice: the top kernel in torch.profiler, forward and forward+backward milliseconds and TFLOP/s
(4·B·H·L²·D forward, 2.5× that for forward+backward); writes bench/results/sdpa_kernels.json.
"""
import argparse, json, time
from pathlib import Path
import torch
import torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
from torch.profiler import profile, ProfilerActivity

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shape', default='1,32,56320,128', help='B,heads,L,head_dim')
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'sdpa_kernels.json'))
    a = ap.parse_args()
    B, H, L, D = map(int, a.shape.split(','))
    q, k, v = (torch.randn(B, H, L, D, device='cuda', dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    flops = 4*B*H*L*L*D
    choices = [('default', None), ('cudnn', SDPBackend.CUDNN_ATTENTION), ('flash', SDPBackend.FLASH_ATTENTION),
               ('efficient', SDPBackend.EFFICIENT_ATTENTION)]
    rows = []
    for name, be in choices:
        ctx = (lambda: sdpa_kernel([be])) if be is not None else (lambda: torch.enable_grad())
        def fwd():
            with ctx(): return F.scaled_dot_product_attention(q, k, v)
        try:
            for _ in range(2): fwd().sum().backward()
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                with torch.no_grad(): fwd()
                torch.cuda.synchronize()
            top = max(prof.key_averages(), key=lambda e: getattr(e, 'self_device_time_total', getattr(e, 'self_cuda_time_total', 0)))
            def t(f, n=5):
                torch.cuda.synchronize(); t0 = time.perf_counter()
                for _ in range(n): f()
                torch.cuda.synchronize(); return (time.perf_counter() - t0)/n
            with torch.no_grad(): tf = t(fwd)
            tb = t(lambda: fwd().sum().backward())
            r = dict(choice=name, kernel=top.key[:120], fwd_ms=round(tf*1e3, 2), fwd_tflops=round(flops/tf/1e12, 1),
                     fwd_bwd_ms=round(tb*1e3, 2), fwd_bwd_tflops=round(2.5*flops/tb/1e12, 1))
        except Exception as e: r = dict(choice=name, error=f"{type(e).__name__}: {str(e)[:160]}")
        rows.append(r); print(r)
    res = dict(card=torch.cuda.get_device_name(), torch=torch.__version__, shape=[B, H, L, D], rows=rows)
    Path(a.out).write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()
