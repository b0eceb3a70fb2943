"""One tiny training run per process, for `tests/test_train_distributed.py`.

Run under `torchrun --nproc_per_node 2 tests/train_worker.py OUT_DIR [--per-sample-noise] experiment=NAME [key=value …] [option=value …]`
(or `accelerate launch … tests/train_worker.py …`, or plain `python` for one process).
Each rank writes `OUT_DIR/rank{r}.json`: how a block weight is sharded on that rank (before training), the
parallelism the trainer chose, the rank's loss for every iteration it ran and, with `--per-sample-noise`, the samples
it trained on (`{global sample number: [Σ x0, σ]}`).

`--per-sample-noise` makes runs of different world sizes comparable sample for sample. The loop draws σ and ε
from per-rank streams (NumPy and torch generators seeded with seed + rank, as the reference), so 2 ranks × batch 1
and 1 rank × batch 2 train on the same two samples but with different noise. With the flag, the σ and ε the loop
drew are replaced, inside `edm_loss`, by ones drawn from generators seeded with (seed, g), where g is the sample's
position in the global sample stream: `DataParallelSampler` gives rank r of w the global positions r, r + w, r + 2w …,
so the j-th sample of the micro-batch at trainer iteration k is g = (k·B + j)·w + r. Everything else — data,
tokenizer, sharded forward/backward, gradient reduction, clipping, AdamW, EMA, logging — is the trainer's own code.
(Text dropout is drawn per rank too; the tiny experiment's rate is 0.)
"""
import json, sys
from pathlib import Path
import numpy as np
import torch

def per_sample_noise(trainer, record:dict):
    "Replace `cosmos_nb.train.edm_loss` by one whose σ and ε depend only on (seed, global sample number); log the samples in `record`."
    import cosmos_nb.train as tr
    from cosmos_nb.diffusion import sample_sigma
    real, m, seed = tr.edm_loss, trainer.exp.model, trainer.exp.trainer.seed
    r, w = trainer.dp_rank, trainer.dp_size         # data-parallel coordinates (= rank, world without context parallelism)

    def edm_loss(net, logvar, x0, cond, sigma, eps, *args, **kw):
        B, T = x0.shape[0], x0.shape[2]
        g = [(trainer.iteration*B + j)*w + r for j in range(B)]          # global sample numbers of this micro-batch
        mult = float(np.sqrt(T)) if m.adjust_video_noise else 1.0
        sigma = torch.cat([sample_sigma(1, np.random.default_rng([seed, n]), m.p_mean, m.p_std, mult) for n in g])   # (B,)
        eps = torch.stack([torch.randn(x0.shape[1:], generator=torch.Generator().manual_seed(1_000_003*seed + n))
                           for n in g]).to(x0)                                                                      # (B,C,T,H,W)
        for j, n in enumerate(g): record[str(n)] = [x0[j].double().sum().item(), sigma[j].item()]
        return real(net, logvar, x0, cond, sigma, eps, *args, **kw)
    tr.edm_loss = edm_loss

def main():
    out, args = Path(sys.argv[1]), sys.argv[2:]
    per_sample = '--per-sample-noise' in args
    args = [a for a in args if a != '--per-sample-noise']
    torch.set_num_threads(1)
    from cosmos_nb.config import parse_cli_args, get_experiment
    from cosmos_nb.train import Trainer, split_run_options
    from cosmos_nb.parallel import describe_sharding
    opts, rest = split_run_options(args)
    name, overrides = parse_cli_args(rest)
    samples = {}
    with Trainer(get_experiment(name, overrides), **{'progress': False, 'log_with': 'none', **opts}) as t:
        if per_sample: per_sample_noise(t, samples)
        sharding = describe_sharding(t.model)
        res = t.fit()
        rank, world, desc = t.env.rank, t.env.world_size, t.parallel_desc
    out.mkdir(parents=True, exist_ok=True)
    (out/f'rank{rank}.json').write_text(json.dumps(dict(rank=rank, world=world, sharding=sharding, parallel=desc, samples=samples,
                                                        history={str(k): v for k, v in res['history'].items()})))

if __name__ == '__main__': main()
