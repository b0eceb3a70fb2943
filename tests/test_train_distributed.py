"""Multi-process training on the CPU (gloo): FSDP2 really shards, hybrid sharding and DDP agree with it, a resumed
2-process run is bit-identical to an uninterrupted one, and the three ways of launching `cosmos_nb.train` work.

Each test starts 2 processes with `torchrun` or `accelerate launch` on the tiny experiment (a few seconds each).
"""
import json, os, socket, subprocess, sys
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT/'tests'/'train_worker.py'
EXP = 'text2world_tiny_example'
KEY = 'net.blocks.block0.blocks.0.block.attn.to_q.0.weight'      # a [64, 64] weight of the tiny DiT
RUN = Path('posttraining')/'diffusion_text2world'/EXP/'checkpoints'
# a learning rate that moves the weights visibly, so that wrong gradient averaging would show
FAST = ['optimizer.lr=1e-3', 'scheduler.warm_up_steps=0', 'trainer.logging_iter=0']

def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1', GLOO_SOCKET_IFNAME='lo')
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'OUTPUT_ROOT'): env.pop(k, None)
    return env

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _run(cmd, timeout=150):
    r = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-5000:]}"
    return r

def _torchrun(out, *args, exp=EXP):
    "Run the worker on 2 ranks; returns the two ranks' reports."
    _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(WORKER), str(out/'report'),
          f'experiment={exp}', f'output_root={out}', *args])
    return [json.loads((out/'report'/f'rank{r}.json').read_text()) for r in (0, 1)]

def _load(path): return torch.load(path, map_location='cpu', weights_only=True)

@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    from cosmos_nb.data import make_demo_dataset
    return make_demo_dataset(tmp_path_factory.mktemp('data')/'ds', n_videos=2, num_frames=17, emb_dim=32)

@pytest.fixture(scope='module')
def fsdp_run(dataset, tmp_path_factory):
    "4 iterations of the tiny experiment, full-sharded over 2 ranks, saving at 2 and 4."
    out = tmp_path_factory.mktemp('fsdp')
    return out, _torchrun(out, f'dataloader_train.dataset.dataset_dir={dataset}', 'trainer.max_iter=4', 'checkpoint.save_iter=2', *FAST)

def test_fsdp_shards_and_rank0_saves(fsdp_run):
    out, reps = fsdp_run
    for r, rep in enumerate(reps):
        assert rep['rank'] == r and rep['world'] == 2 and 'FSDP2 full shard' in rep['parallel']
        assert rep['sharding'] == dict(placements='(Shard(dim=0),)', local_shape=[32, 64], global_shape=[64, 64], mesh=[2])
        assert sorted(rep['history']) == ['1', '2', '3', '4']
    assert reps[0]['history']['1']['loss'] != reps[1]['history']['1']['loss']     # different samples and noise per rank
    ck = out/RUN
    names = sorted(p.name for p in ck.iterdir())
    assert names == ['iter_000000002.pt', 'iter_000000002_ema_model.pt', 'iter_000000002_reg_model.pt', 'iter_000000004.pt',
                     'iter_000000004_ema_model.pt', 'iter_000000004_reg_model.pt', 'iter_000000004_train_state',
                     'latest_checkpoint.txt'], names
    assert (ck/'latest_checkpoint.txt').read_text() == 'iter_000000004.pt'
    state = sorted(p.name for p in (ck/'iter_000000004_train_state').iterdir())
    assert state == ['.metadata', '__0_0.distcp', '__1_0.distcp', 'rng_rank0.pt', 'rng_rank1.pt', 'trainer.pt'], state
    from cosmos_nb.config import dit_config
    from cosmos_nb.dit import DiffusionNet
    from cosmos_nb.checkpoint import load_released
    for kind in ('reg', 'ema'):                                       # full tensors, released keys, strict load
        sd = _load(ck/f'iter_000000004_{kind}_model.pt')
        assert sd[KEY].shape == (64, 64)
        load_released(DiffusionNet(dit_config('tiny')), ck/f'iter_000000004_{kind}_model.pt')

def test_hsdp_and_ddp_match_fsdp(fsdp_run, dataset, tmp_path):
    out, reps = fsdp_run
    common = [f'dataloader_train.dataset.dataset_dir={dataset}', 'trainer.max_iter=4', 'checkpoint.save_iter=4', *FAST]
    # hybrid sharding, and with activation checkpointing (wrapper first, then fully_shard): same numbers
    hsdp = _torchrun(tmp_path/'hsdp', *common, 'fsdp.sharding_group_size=1', 'fsdp.checkpoint=true')
    ddp = _torchrun(tmp_path/'ddp', *common, 'trainer.distributed_parallelism=ddp')
    for rep in hsdp:
        assert 'hybrid shard (groups of 1, 2 replicas), 4 units, activation checkpointing on' in rep['parallel'], rep['parallel']
        assert rep['sharding'] == dict(placements='(Replicate(), Shard(dim=0))', local_shape=[64, 64], global_shape=[64, 64], mesh=[2, 1])
    assert all(rep['sharding']['placements'] == 'unsharded' and rep['parallel'].startswith('DDP') for rep in ddp)
    for other in (hsdp, ddp):
        for a, b in zip(reps, other):
            for it in ('1', '2', '3', '4'): assert abs(a['history'][it]['loss'] - b['history'][it]['loss']) < 1e-4, (it, a, b)
    for d in ('hsdp', 'ddp'):
        for kind in ('reg', 'ema'):
            x, y = _load(out/RUN/f'iter_000000004_{kind}_model.pt'), _load(tmp_path/d/RUN/f'iter_000000004_{kind}_model.pt')
            assert list(x) == list(y)
            diff = max((x[k].float() - y[k].float()).abs().max().item() for k in x)
            assert diff < 1e-5, (d, kind, diff)

def test_resume_two_ranks_is_exact(fsdp_run, dataset, tmp_path):
    out, reps = fsdp_run
    common = [f'dataloader_train.dataset.dataset_dir={dataset}', 'checkpoint.save_iter=2', *FAST]
    first = _torchrun(tmp_path, *common, 'trainer.max_iter=2')
    second = _torchrun(tmp_path, *common, 'trainer.max_iter=4')
    for r in (0, 1):
        assert sorted(first[r]['history']) == ['1', '2'] and sorted(second[r]['history']) == ['3', '4']
        assert {**first[r]['history'], **second[r]['history']} == reps[r]['history']          # bit for bit, each rank
    for kind in ('reg', 'ema'):
        x, y = _load(out/RUN/f'iter_000000004_{kind}_model.pt'), _load(tmp_path/RUN/f'iter_000000004_{kind}_model.pt')
        assert all(torch.equal(x[k], y[k]) for k in x), kind

def test_lora_ddp_two_ranks(dataset, tmp_path):
    "LoRA trains with DDP: both ranks hold the whole model, rank 0 writes the seed's iter_N_model.pt, which inference loads."
    reps = _torchrun(tmp_path, f'dataloader_train.dataset.dataset_dir={dataset}', 'trainer.max_iter=2', 'trainer.logging_iter=0',
                     exp='text2world_tiny_lora_example')
    assert all(r['parallel'].startswith('DDP + LoRA') and r['sharding']['placements'] == 'unsharded' for r in reps)
    ck = tmp_path/'posttraining'/'diffusion_text2world'/'text2world_tiny_lora_example'/'checkpoints'
    assert sorted(p.name for p in ck.iterdir()) == ['iter_000000002.pt', 'iter_000000002_model.pt', 'iter_000000002_train_state',
                                                    'latest_checkpoint.txt']
    obj = _load(ck/'iter_000000002_model.pt')
    assert obj['trained_data_record'] == {'image': 0, 'video': 4, 'iteration': 2}
    from cosmos_nb.config import dit_config
    from cosmos_nb.dit import DiffusionNet
    from cosmos_nb.lora import load_lora_for_inference
    rep = load_lora_for_inference(DiffusionNet(dit_config('tiny')), ck/'iter_000000002_model.pt', verbose=False)
    assert rep is not None

def _cli_ok(r, out, n_iter):
    assert 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert r.stdout.count('Starting training...') == 1, r.stdout                              # rank 0 logs, once
    assert '2 process(es) on cpu, FSDP2 full shard' in r.stdout, r.stdout
    assert (out/RUN/'latest_checkpoint.txt').read_text() == f'iter_{n_iter:09d}.pt'
    assert (out/RUN/f'iter_{n_iter:09d}_ema_model.pt').is_file()

def test_accelerate_launch_cli(dataset, tmp_path):
    r = _run(['accelerate', 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
              '--dynamo_backend', 'no', '--main_process_port', str(_free_port()), '-m', 'cosmos_nb.train',
              f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', 'trainer.max_iter=2',
              f'output_root={tmp_path}', 'progress=false', 'log_with=none'])
    _cli_ok(r, tmp_path, 2)

def test_accelerate_config_file(dataset, tmp_path):
    "The shipped 2-GPU FSDP2 config: on a CPU accelerate runs it as MULTI_CPU, and the trainer still shards."
    r = _run(['accelerate', 'launch', '--config_file', 'configs/accelerate/2gpu.yaml', '--main_process_port', str(_free_port()),
              '-m', 'cosmos_nb.train', f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}',
              'trainer.max_iter=3', 'trainer.logging_iter=1', f'output_root={tmp_path}', 'progress=false', 'log_with=none'])
    _cli_ok(r, tmp_path, 3)
    assert ' 2 : iter_speed ' in r.stdout and ' 3 : iter_speed ' in r.stdout

def test_torchrun_seed_form(dataset, tmp_path):
    r = _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'cosmos_nb.train', '--',
              f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', 'trainer.max_iter=2',
              f'output_root={tmp_path}', 'progress=false', 'log_with=none'])
    _cli_ok(r, tmp_path, 2)

def test_python_m_and_bad_input(dataset, tmp_path):
    ok = _run([sys.executable, '-m', 'cosmos_nb.train', f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}',
               'trainer.max_iter=1', f'output_root={tmp_path}', 'progress=false', 'log_with=none'])
    assert '1 process(es) on cpu, FSDP2 full shard' in ok.stdout
    assert (tmp_path/RUN/'iter_000000001_reg_model.pt').is_file()
    bad = subprocess.run([sys.executable, '-m', 'cosmos_nb.train', f'experiment={EXP}', 'trainer.max_itr=1'],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and 'did you mean trainer.max_iter' in bad.stderr and 'Traceback' not in bad.stderr, bad.stderr
    missing = subprocess.run([sys.executable, '-m', 'cosmos_nb.train', 'experiment=text2world_7b_example_cosmos_nemo_assets',
                              f'dataloader_train.dataset.dataset_dir={tmp_path/"nowhere"}'],
                             cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and 'nowhere' in missing.stderr and 'Traceback' not in missing.stderr, missing.stderr
