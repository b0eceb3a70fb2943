"""Multi-process training on the CPU (gloo): FSDP2 really shards, hybrid sharding and DDP agree with it, a resumed
2-process run is bit-identical to an uninterrupted one, 2 ranks (on one machine, or on 2 "machines" of 1 process each
on localhost) give the losses and weights of 1 process on the same global batch, and the ways of launching
`cosmos_nb.train` work.

Each test starts 2 processes with `torchrun` or `accelerate launch` on the tiny experiment (a few seconds each).
"""
import contextlib, json, os, socket, subprocess, sys, time
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT/'tests'/'train_worker.py'
EXP = 'text2world_tiny_example'
KEY = 'net.blocks.block0.blocks.0.block.attn.to_q.0.weight'      # a [64, 64] weight of the tiny DiT
RUN = Path('posttraining')/'diffusion_text2world'/EXP/'checkpoints'
# random network and tokenizer weights: the tiny experiments' defaults are the quickstart's files, which the tests do not have
RANDOM = ['checkpoint.load_path=', 'model.tokenizer.random_init=true']
# a learning rate that moves the weights visibly, so that wrong gradient averaging would show
FAST = ['optimizer.lr=1e-3', 'scheduler.warm_up_steps=0', 'trainer.logging_iter=0']
ACCELERATE = str(Path(sys.executable).parent/'accelerate') if (Path(sys.executable).parent/'accelerate').exists() else 'accelerate'
TIMEOUT = 60                                                     # seconds a launch may take (5-10 s when all is well)

def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1', GLOO_SOCKET_IFNAME='lo')
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'GROUP_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'OUTPUT_ROOT',
              'TORCHELASTIC_RUN_ID'):
        env.pop(k, None)
    return env

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _start(cmd, log:Path) -> subprocess.Popen:
    "Start `cmd` in the repository with its output going to `log`."
    with open(log, 'w') as f:
        return subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=_env(), stdout=f, stderr=subprocess.STDOUT, text=True)

def _stop(p:subprocess.Popen):
    "Kill launcher `p` and the processes under it (torchrun starts its workers in sessions of their own)."
    if p.poll() is not None: return
    import psutil
    with contextlib.suppress(psutil.NoSuchProcess):
        procs = [psutil.Process(p.pid)]
        procs += procs[0].children(recursive=True)
        for q in procs:
            with contextlib.suppress(psutil.NoSuchProcess): q.kill()
    p.wait()

def _launch(cmds, tmp:Path, timeout=TIMEOUT, stagger_port:int=None) -> list:
    """Run the launch commands `cmds` concurrently (e.g. one per machine); fail with their logs unless all exit with 0.
    With `stagger_port`, the first one must listen on that port (the rendezvous store) before the others start."""
    logs = [tmp/f'launch{i}.log' for i in range(len(cmds))]
    procs, t0 = [], time.monotonic()
    def logs_text():
        return '\n'.join(f"--- {' '.join(map(str, c))}\n{l.read_text()[-6000:] if l.exists() else ''}" for c, l in zip(cmds, logs))
    try:
        for i, (cmd, log) in enumerate(zip(cmds, logs)):
            if i == 1 and stagger_port is not None:
                while True:
                    assert procs[0].poll() is None, f"the first launcher exited before opening port {stagger_port}\n{logs_text()}"
                    assert time.monotonic() - t0 < timeout, f"nothing listens on port {stagger_port}\n{logs_text()}"
                    with socket.socket() as s:
                        if s.connect_ex(('127.0.0.1', stagger_port)) == 0: break
                    time.sleep(0.2)
            procs.append(_start(cmd, log))
        for p in procs:
            try: p.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired: pytest.fail(f"timed out after {timeout} s\n{logs_text()}")
        assert all(p.returncode == 0 for p in procs), f"exit codes {[p.returncode for p in procs]}\n{logs_text()}"
    finally:
        for p in procs: _stop(p)
    return [l.read_text() for l in logs]

def _run(cmd, tmp:Path, timeout=TIMEOUT) -> str:
    "Run one command (its log goes to `tmp`); returns its output, stdout and stderr together."
    return _launch([cmd], tmp, timeout)[0]

def _torchrun(out, *args, exp=EXP):
    "Run the worker on 2 ranks; returns the two ranks' reports."
    out.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', WORKER, out/'report',
          f'experiment={exp}', f'output_root={out}', *RANDOM, *args], out)
    return [json.loads((out/'report'/f'rank{r}.json').read_text()) for r in (0, 1)]

def _load(path): return torch.load(path, map_location='cpu', weights_only=True)

@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    from cosmos_nb.quickstart import make_demo_dataset
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
    assert names == ['cosmos_nb_config.json', 'iter_000000002.pt', 'iter_000000002_ema_model.pt', 'iter_000000002_reg_model.pt', 'iter_000000004.pt',
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
    # (hybrid run: also with the checkpointed block inputs kept in host memory, fsdp.offload_activations=-1)
    hsdp = _torchrun(tmp_path/'hsdp', *common, 'fsdp.sharding_group_size=1', 'fsdp.checkpoint=true', 'fsdp.offload_activations=-1')
    ddp = _torchrun(tmp_path/'ddp', *common, 'trainer.distributed_parallelism=ddp')
    for rep in hsdp:
        assert 'hybrid shard (groups of 1, 2 replicas), 4 units, activation checkpointing on (inputs in host memory)' in rep['parallel'], rep['parallel']
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
            assert diff < (1e-5 if not torch.cuda.is_available() else 1e-2), (d, kind, diff)   # GPU: bf16 weights, 1-ulp differences

def test_resume_two_ranks_is_exact(fsdp_run, dataset, tmp_path):
    """Stopped at 2 and resumed to 4 = 4 uninterrupted iterations, bit for bit; the resumed run keeps its EMA in host
    memory (model.ema.offload=true: sharded DTensors with host shards, saved and restored by DCP), the reference run on the device."""
    out, reps = fsdp_run
    common = [f'dataloader_train.dataset.dataset_dir={dataset}', 'checkpoint.save_iter=2', 'model.ema.offload=true', *FAST]
    first = _torchrun(tmp_path, *common, 'trainer.max_iter=2')
    second = _torchrun(tmp_path, *common, 'trainer.max_iter=4')
    for r in (0, 1):
        assert sorted(first[r]['history']) == ['1', '2'] and sorted(second[r]['history']) == ['3', '4']
        got = {**first[r]['history'], **second[r]['history']}
        if torch.cuda.is_available():   # GPU: two fresh runs already differ at iteration 1 (cuDNN autotuning, atomics)
            assert all(abs(got[i][k] - reps[r]['history'][i][k]) < 1e-4 for i in got for k in got[i]), (got, reps[r]['history'])
        else: assert got == reps[r]['history']                                                # bit for bit, each rank
    for kind in ('reg', 'ema'):
        x, y = _load(out/RUN/f'iter_000000004_{kind}_model.pt'), _load(tmp_path/RUN/f'iter_000000004_{kind}_model.pt')
        if torch.cuda.is_available():   # bf16 weights: the runs' 1e-5 differences show as 1-ulp steps (as in the hsdp test)
            assert max((x[k].float() - y[k].float()).abs().max().item() for k in x) < 1e-2, kind
        else: assert all(torch.equal(x[k], y[k]) for k in x), kind

def test_lora_ddp_two_ranks(dataset, tmp_path):
    "LoRA trains with DDP: both ranks hold the whole model, rank 0 writes the seed's iter_N_model.pt, which inference loads."
    reps = _torchrun(tmp_path, f'dataloader_train.dataset.dataset_dir={dataset}', 'trainer.max_iter=2', 'trainer.logging_iter=0',
                     'fsdp.checkpoint=true', 'fsdp.offload_activations=1', 'fsdp.memory_plan=manual', exp='text2world_tiny_lora_example')  # block 0's input on the host
    assert all(r['parallel'].startswith('DDP + LoRA') and r['sharding']['placements'] == 'unsharded' for r in reps)
    assert all('checkpointed inputs in host memory' in r['parallel'] for r in reps), reps[0]['parallel']
    ck = tmp_path/'posttraining'/'diffusion_text2world'/'text2world_tiny_lora_example'/'checkpoints'
    assert sorted(p.name for p in ck.iterdir()) == ['cosmos_nb_config.json', 'iter_000000002.pt', 'iter_000000002_adapter', 'iter_000000002_model.pt',
                                                    'iter_000000002_train_state', 'latest_checkpoint.txt']
    obj = _load(ck/'iter_000000002_model.pt')
    assert obj['trained_data_record'] == {'image': 0, 'video': 4, 'iteration': 2}
    from cosmos_nb.config import dit_config
    from cosmos_nb.dit import DiffusionNet
    from cosmos_nb.lora import load_lora_for_inference
    rep = load_lora_for_inference(DiffusionNet(dit_config('tiny')), ck/'iter_000000002_model.pt', verbose=False)
    assert rep is not None
    from cosmos_nb.checkpoint import load_released                  # the adapter beside it, on the base inside the checkpoint
    base = DiffusionNet(dit_config('tiny')); load_released(base, ck/'iter_000000002_model.pt', ignore=['*_lora.*'])
    rep2 = load_lora_for_inference(base, ck/'iter_000000002_adapter', verbose=False)
    assert (rep2.kind, rep2.weights, rep2.n_tensors) == ('adapter', 'EMA', rep.n_tensors)

# --- 2 ranks = 1 process on the same global batch -----------------------------------------------------------------
# 2 ranks × batch 1 against 1 process × batch 2, both with the worker's `--per-sample-noise` (σ and ε drawn from the
# sample's position in the global sample stream instead of the per-rank streams): the same two samples with the same
# noise at every iteration, so the rank-averaged loss and, after gradient averaging, the weights must agree.
SAME = ['optimizer.lr=1e-3', 'scheduler.warm_up_steps=0', 'trainer.logging_iter=1', 'trainer.max_iter=4', 'checkpoint.save_iter=4']

def _worker_args(dataset, out, batch):
    return [WORKER, out/'report', '--per-sample-noise', f'experiment={EXP}', f'output_root={out}',
            f'dataloader_train.dataset.dataset_dir={dataset}', f'dataloader_train.batch_size={batch}', *RANDOM, *SAME]

def _reports(out, world):
    return [json.loads((out/'report'/f'rank{r}.json').read_text()) for r in range(world)]

@pytest.fixture(scope='module')
def one_process(dataset, tmp_path_factory):
    "The reference: 1 process (a plain `python`, FSDP2 over a 1-rank group) with batch 2 = the global batch of 2 ranks × 1."
    out = tmp_path_factory.mktemp('one')
    _run([sys.executable, *_worker_args(dataset, out, 2)], out)
    rep, = _reports(out, 1)
    assert rep['world'] == 1 and 'FSDP2 full shard' in rep['parallel']
    return out, rep

def _metrics(out):
    return {str(m['iteration']): m for m in map(json.loads, (out/RUN.parent/'metrics.jsonl').read_text().splitlines())}

def _same_as_one_process(one, out, reps, tol_loss=1e-5, tol_w=1e-5):
    ref_out, ref = one
    assert [r['rank'] for r in reps] == [0, 1] and all(r['world'] == 2 for r in reps)
    # the same samples: together the ranks saw the reference's global sample numbers 0..7, each once, with the same data and σ
    seen = {**reps[0]['samples'], **reps[1]['samples']}
    assert len(seen) == len(reps[0]['samples']) + len(reps[1]['samples']) == 8 and sorted(seen) == sorted(ref['samples'])
    assert sorted(map(int, reps[0]['samples'])) == [0, 2, 4, 6]                   # rank r gets r, r + 2, … (strided sampler)
    for g, (x, s) in ref['samples'].items():
        assert abs(seen[g][0] - x) <= 1e-6*max(1.0, abs(x)) and abs(seen[g][1] - s) <= 1e-6*s, (g, seen[g], (x, s))
    assert len({seen[g][0] for g in seen}) > 1                                   # really different samples
    # the loss: mean over the ranks (each rank's own loss differs) = the batch-2 loss, every iteration; also as logged
    logged, ref_logged = _metrics(out), _metrics(ref_out)
    assert sorted(ref['history']) == sorted(logged) == ['1', '2', '3', '4']
    for it, h in ref['history'].items():
        a, b = reps[0]['history'][it]['loss'], reps[1]['history'][it]['loss']
        assert abs(a - b) > 1e-3, (it, a, b)
        assert abs((a + b)/2 - h['loss']) < tol_loss, (it, a, b, h)
        assert abs(logged[it]['loss'] - h['loss']) < tol_loss, (it, logged[it], h)
        # AdamW and clipping are blind to the scale of the gradients: summed instead of averaged gradients show only here
        assert abs(logged[it]['grad_norm'] - ref_logged[it]['grad_norm']) < 1e-4*ref_logged[it]['grad_norm'], (it, logged[it], ref_logged[it])
    # the weights, trained and EMA, after 4 AdamW steps
    diffs = {}
    for kind in ('reg', 'ema'):
        x, y = _load(ref_out/RUN/f'iter_000000004_{kind}_model.pt'), _load(out/RUN/f'iter_000000004_{kind}_model.pt')
        assert list(x) == list(y)
        diffs[kind] = max((x[k].float() - y[k].float()).abs().max().item() for k in x)
    assert max(diffs.values()) < tol_w, diffs
    return diffs

def test_two_ranks_match_one_process(one_process, dataset, tmp_path):
    "2 processes on one machine (`torchrun --standalone`), batch 1 each = 1 process with batch 2."
    _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', *_worker_args(dataset, tmp_path, 1)],
         tmp_path)
    reps = _reports(tmp_path, 2)
    assert all(r['sharding']['local_shape'] == [32, 64] for r in reps)
    _same_as_one_process(one_process, tmp_path, reps)

def test_two_machines_match_one_process(one_process, dataset, tmp_path):
    """2 "machines" × 1 process on localhost: one `accelerate launch --num_machines 2 --machine_rank R` per machine, with
    a c10d rendezvous on 127.0.0.1, batch 1 each = 1 process with batch 2.

    `--cpu` cannot be used: with it accelerate runs the script directly (its MPI path without `--mpirun_hostfile`), and
    both "machines" would train alone. `--multi_gpu` on a machine without GPUs launches through `torch.distributed.run`
    (accelerate's MULTI_CPU; the trainer picks gloo). Machine 0 starts first: with c10d on a local address every agent
    tries to host the rendezvous store, and accelerate's machine 0 refuses a port that is already taken."""
    port = _free_port()
    def machine(r):
        return [ACCELERATE, 'launch', '--multi_gpu', '--num_machines', '2', '--machine_rank', str(r), '--num_processes', '2',
                '--main_process_ip', '127.0.0.1', '--main_process_port', str(port), '--rdzv_backend', 'c10d',
                '--mixed_precision', 'no', '--dynamo_backend', 'no', *_worker_args(dataset, tmp_path, 1)]
    logs = _launch([machine(0), machine(1)], tmp_path, stagger_port=port)
    reps = _reports(tmp_path, 2)
    for r in reps:        # one process per machine: LOCAL_WORLD_SIZE = 1, and the 2 ranks still shard one copy of the model
        assert 'FSDP2 full shard' in r['parallel'] and r['sharding']['local_shape'] == [32, 64], r
    assert sum(l.count('Starting training...') for l in logs) == 1, logs                       # rank 0 logs, once
    _same_as_one_process(one_process, tmp_path, reps)

def test_per_sample_noise_is_needed(one_process, fsdp_run):
    "The default per-rank noise streams: 2 ranks × 1 sample do not reproduce the batch-2 run (so the comparison above can fail)."
    _, ref = one_process
    _, reps = fsdp_run
    assert all(abs((reps[0]['history'][i]['loss'] + reps[1]['history'][i]['loss'])/2 - ref['history'][i]['loss']) > 1e-3
               for i in ('1', '2'))

# --- the command lines ------------------------------------------------------------------------------------------------
def _cli_ok(log, out, n_iter):
    assert 'Traceback' not in log, log[-3000:]
    assert log.count('Starting training...') == 1, log                                        # rank 0 logs, once
    assert '2 process(es) on cpu, FSDP2 full shard' in log, log
    assert log.count('tokenizer: random weights (model.tokenizer.random_init=true)') == 1, log             # what it reads, once
    assert log.count("weights: random initialisation (checkpoint.load_path='', seed 0)") == 1, log
    assert (out/RUN/'latest_checkpoint.txt').read_text() == f'iter_{n_iter:09d}.pt'
    assert (out/RUN/f'iter_{n_iter:09d}_ema_model.pt').is_file()

def test_accelerate_launch_cli(dataset, tmp_path):
    log = _run([ACCELERATE, 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
                '--dynamo_backend', 'no', '--main_process_port', str(_free_port()), '-m', 'cosmos_nb.train',
                f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', *RANDOM, 'trainer.max_iter=2',
                f'output_root={tmp_path}', 'progress=false', 'log_with=none'], tmp_path)
    _cli_ok(log, tmp_path, 2)

def test_accelerate_config_file(dataset, tmp_path):
    "The shipped 2-GPU FSDP2 config: on a CPU accelerate runs it as MULTI_CPU, and the trainer still shards."
    log = _run([ACCELERATE, 'launch', '--config_file', 'configs/accelerate/2gpu.yaml', '--main_process_port', str(_free_port()),
                '-m', 'cosmos_nb.train', f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', *RANDOM,
                'trainer.max_iter=3', 'trainer.logging_iter=1', f'output_root={tmp_path}', 'progress=false', 'log_with=none'], tmp_path)
    _cli_ok(log, tmp_path, 3)
    assert ' 2 : iter_speed ' in log and ' 3 : iter_speed ' in log

@pytest.fixture(scope='module')
def seed_form(dataset, tmp_path_factory):
    "The seed's `torchrun --nproc_per_node=2 -m … -- experiment=…`, 2 iterations."
    out = tmp_path_factory.mktemp('seed_form')
    log = _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'cosmos_nb.train', '--',
                f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', *RANDOM, 'trainer.max_iter=2',
                f'output_root={out}', 'progress=false', 'log_with=none'], out)
    return out, log

def test_torchrun_seed_form(seed_form):
    out, log = seed_form
    _cli_ok(log, out, 2)

def test_torchrun_seed_multinode_form(seed_form, dataset, tmp_path):
    """The seed's multi-node command (`torchrun --nnodes … --rdzv_id 123 --rdzv_backend c10d --rdzv_endpoint $MASTER_ADDR:PORT`,
    no node rank: the rendezvous numbers the nodes) as 2 nodes × 1 process on localhost: the same run as 2 processes on one node."""
    port = _free_port()
    node = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=1', '--nnodes=2', '--rdzv_id', '123',
            '--rdzv_backend', 'c10d', '--rdzv_endpoint', f'127.0.0.1:{port}', '-m', 'cosmos_nb.train', '--',
            f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', *RANDOM, 'trainer.max_iter=2',
            f'output_root={tmp_path}', 'progress=false', 'log_with=none']
    logs = _launch([node, node], tmp_path, stagger_port=port)
    _cli_ok(''.join(logs), tmp_path, 2)
    ref = seed_form[0]
    for kind in ('reg', 'ema'):
        x, y = _load(ref/RUN/f'iter_000000002_{kind}_model.pt'), _load(tmp_path/RUN/f'iter_000000002_{kind}_model.pt')
        diff = max((x[k].float() - y[k].float()).abs().max().item() for k in x)
        assert diff < 1e-6, (kind, diff)

def test_python_m_and_bad_input(dataset, tmp_path):
    log = _run([sys.executable, '-m', 'cosmos_nb.train', f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}', *RANDOM,
                'trainer.max_iter=1', f'output_root={tmp_path}', 'progress=false', 'log_with=none'], tmp_path)
    assert '1 process(es) on cpu, FSDP2 full shard' in log
    assert (tmp_path/RUN/'iter_000000001_reg_model.pt').is_file()
    bad = subprocess.run([sys.executable, '-m', 'cosmos_nb.train', f'experiment={EXP}', 'trainer.max_itr=1'],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and 'did you mean trainer.max_iter' in bad.stderr and 'Traceback' not in bad.stderr, bad.stderr
    missing = subprocess.run([sys.executable, '-m', 'cosmos_nb.train', 'experiment=text2world_7b_example_cosmos_nemo_assets',
                              f'dataloader_train.dataset.dataset_dir={tmp_path/"nowhere"}'],
                             cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and 'nowhere' in missing.stderr and 'Traceback' not in missing.stderr, missing.stderr
    # the tiny experiment as it is, in a folder without the quickstart's files: an error, not random weights
    nofiles = subprocess.run([sys.executable, '-m', 'cosmos_nb.train', f'experiment={EXP}', f'dataloader_train.dataset.dataset_dir={dataset}'],
                             cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60)
    assert nofiles.returncode == 2 and 'Traceback' not in nofiles.stderr, nofiles.stderr
    assert 'no tokenizer at checkpoints/Cosmos-Tokenize1-CV8x8x8-720p' in nofiles.stderr and 'random_init=true' in nofiles.stderr, nofiles.stderr
