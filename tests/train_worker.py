"""One tiny training run per process, for `tests/test_train_distributed.py`.

Run under `torchrun --nproc_per_node 2 tests/train_worker.py OUT_DIR experiment=NAME [key=value …] [option=value …]`.
Each rank writes `OUT_DIR/rank{r}.json`: how a block weight is sharded on that rank (before training), the
parallelism the trainer chose, and the rank's loss for every iteration it ran.
"""
import json, sys
from pathlib import Path
import torch

def main():
    out, args = Path(sys.argv[1]), sys.argv[2:]
    torch.set_num_threads(1)
    from cosmos_nb.config import parse_cli_args, get_experiment
    from cosmos_nb.train import Trainer, split_run_options, describe_sharding
    opts, rest = split_run_options(args)
    name, overrides = parse_cli_args(rest)
    with Trainer(get_experiment(name, overrides), **{'progress': False, 'log_with': 'none', **opts}) as t:
        sharding = describe_sharding(t.model)
        res = t.fit()
        rank, world, desc = t.env.rank, t.env.world_size, t.parallel_desc
    out.mkdir(parents=True, exist_ok=True)
    (out/f'rank{rank}.json').write_text(json.dumps(dict(rank=rank, world=world, sharding=sharding, parallel=desc,
                                                        history={str(k): v for k, v in res['history'].items()})))

if __name__ == '__main__': main()
