"""One rank of a context-parallel check, started by `tests/test_context_parallel.py` with `torchrun`.

usage: cp_worker.py ATTENTION CP_SIZE [T]
The ranks form groups of CP_SIZE consecutive ranks; each group runs one sample of the tiny DiT in fp32 with
`ContextParallel(group, ATTENTION)`. The same rank also runs the plain model on the whole sample (the single-process
answer); the output and the parameter gradients (averaged over the CP group, as the data-parallel reduction does) must
agree within 1e-5 relative. Prints one `CP-OK ...` line per rank, or fails.
"""
import sys
import torch, torch.distributed as dist
from cosmos_nb.dit import DiffusionNet, dit_config
from cosmos_nb.parallel import ContextParallel, init_distributed

attention, c = sys.argv[1], int(sys.argv[2])
T = int(sys.argv[3]) if len(sys.argv) > 3 else 4
env = init_distributed()
world, rank = dist.get_world_size(), dist.get_rank()
groups = [dist.new_group(list(range(i, i + c))) for i in range(0, world, c)]      # every rank creates every group
group, sample = groups[rank//c], rank//c                                           # the CP group and its sample

torch.manual_seed(0)
net = DiffusionNet(dit_config('tiny', num_heads=2 if attention == 'ring' else 4)).float()
for p in net.parameters(): torch.nn.init.normal_(p, std=0.05)                    # zero-initialised layers get weights too
g = torch.Generator().manual_seed(100 + sample)                                   # each CP group its own sample
x, sigma = torch.randn(1, 16, T, 8, 8, generator=g), torch.rand(1, generator=g)*2 + 0.1
text, w = torch.randn(1, 7, 32, generator=g), torch.randn(1, 16, T, 8, 8, generator=g)

params = list(net.parameters())

def run():
    y = net(x, sigma, text, fps=torch.tensor([24.0]))
    grads = torch.autograd.grad((y*w).sum(), params, allow_unused=True)
    return y.detach(), [torch.zeros_like(p) if gr is None else gr for p, gr in zip(params, grads)]

y0, g0 = run()                                                                      # the plain model, whole sample
plan = ContextParallel(group, attention).apply(net)
y1, g1 = run()
g1 = [gr.clone() for gr in g1]
for gr in g1: dist.all_reduce(gr, group=group); gr /= c                           # the data-parallel mean over the CP ranks

def rel(a, b): return ((a - b).norm()/b.norm().clamp_min(1e-30)).item()
out_err = rel(y1, y0)
grad_err = max(rel(a, b) for a, b in zip(g1, g0))
assert out_err < 1e-5, f"rank {rank}: output differs by {out_err:.2e} relative"
assert grad_err < 1e-5, f"rank {rank}: gradients differ by {grad_err:.2e} relative"
print(f"CP-OK rank={rank} plan={plan!r} out={out_err:.1e} grad={grad_err:.1e}", flush=True)
dist.destroy_process_group()
