"""Context parallelism on several CPU processes (gloo): the tiny DiT's output and gradients with its frames split over
2 or 4 ranks equal the single-process ones (≤ 1e-5 relative, fp32), for the all-to-all (Ulysses) and the ring exchange,
with one CP group or with two CP groups side by side (as under data parallelism); a tiny training run with CP 2
(FSDP2, and LoRA under DDP, and 2 data-parallel × 2 CP) has the losses and weights of one process; and
`torchrun --nproc_per_node=N -m cosmos_nb.text2world --num_gpus N` writes the mp4 of one process."""
import re, sys
from pathlib import Path
import pytest
from test_train_distributed import _free_port, _run

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT/'tests'/'cp_worker.py'

@pytest.mark.parametrize('attention,procs,cp', [('ulysses', 2, 2), ('ring', 2, 2), ('ring', 4, 4), ('ulysses', 4, 4),
                                                ('ring', 4, 2)])
def test_context_parallel_matches_one_process(tmp_path, attention, procs, cp):
    out = _run([sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={procs}', f'--master_port={_free_port()}',
                WORKER, attention, cp], tmp_path, timeout=120)
    found = re.findall(r'CP-OK rank=(\d+) plan=(ContextParallel\([^)]*\))', out)       # the ranks' lines may interleave
    assert sorted(int(r) for r, _ in found) == list(range(procs)), out[-4000:]
    assert {p for _, p in found} == {f'ContextParallel({cp} ranks, {attention})'}, found

def test_frames_that_do_not_divide_are_an_error(tmp_path):
    "5 latent frames over 2 ranks: stops with the divisors, on every rank."
    with pytest.raises(BaseException) as e:
        _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={_free_port()}',
              WORKER, 'ulysses', 2, 5], tmp_path, timeout=120)
    assert 'splits the video' in str(e.value) and '(1, 5)' in str(e.value), str(e.value)[-3000:]

# --- training: a CP group trains exactly as one process on the same sample ----------------------------------------
from test_train_distributed import _load, _reports, _metrics, RANDOM, RUN, EXP

TRAIN_WORKER = ROOT/'tests'/'train_worker.py'
SAME = ['optimizer.lr=1e-3', 'scheduler.warm_up_steps=0', 'trainer.logging_iter=1', 'trainer.max_iter=3', 'checkpoint.save_iter=3']

@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    "9-frame clips: 2 latent frames, which split over 2 ranks."
    from cosmos_nb.quickstart import make_demo_dataset
    return make_demo_dataset(tmp_path_factory.mktemp('data')/'ds', n_videos=4, num_frames=17, emb_dim=32)

def _train(out, procs, clips, *args, exp=EXP, batch=1):
    out.mkdir(parents=True, exist_ok=True)
    cmd = [TRAIN_WORKER, out/'report', f'experiment={exp}', f'output_root={out}', f'dataloader_train.dataset.dataset_dir={clips}',
           f'dataloader_train.batch_size={batch}', *RANDOM, *SAME, *args]
    launch = [sys.executable] if procs == 1 else [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={procs}']
    _run([*launch, *cmd], out, timeout=180)
    return _reports(out, procs)

def _weights_diff(a, b, names):
    diffs = {}
    for n in names:
        x, y = _load(a/n), _load(b/n)
        assert list(x) == list(y)
        diffs[n] = max((x[k].float() - y[k].float()).abs().max().item() for k in x)
    return diffs

@pytest.fixture(scope='module')
def one(clips, tmp_path_factory):
    "The reference: one process, no context parallelism."
    out = tmp_path_factory.mktemp('one')
    rep, = _train(out, 1, clips)
    return out, rep

@pytest.mark.parametrize('attention', ['ulysses', 'ring'])
def test_cp_training_matches_one_process(one, clips, tmp_path, attention):
    """2 ranks, one CP group (FSDP2 over both, activation checkpointing on, so the exchanges also run in the recompute):
    the same losses, gradient norms and weights as one process."""
    ref_out, ref = one
    reps = _train(tmp_path, 2, clips, 'trainer.context_parallel_size=2', f'trainer.context_parallel_attention={attention}',
                  'fsdp.checkpoint=true')
    for r in reps: assert f'context parallel: 1 data-parallel × 2 ({attention})' in r['parallel'], r['parallel']
    got, want = _metrics(tmp_path), _metrics(ref_out)
    assert sorted(got) == sorted(want) == ['1', '2', '3']
    for it in want:
        for k in ('loss', 'grad_norm'):
            assert abs(got[it][k] - want[it][k]) <= 1e-5*max(1.0, abs(want[it][k])), (it, k, got[it], want[it])
        assert reps[0]['history'][it] == reps[1]['history'][it]                      # the two ranks of the group agree
    diffs = _weights_diff(ref_out/RUN, tmp_path/RUN, ['iter_000000003_reg_model.pt', 'iter_000000003_ema_model.pt'])
    assert max(diffs.values()) < 1e-5, diffs

def test_cp_and_data_parallel_match_one_process(clips, tmp_path):
    """4 ranks = 2 data-parallel × CP 2, batch 1 each, against one process with batch 2, σ and ε drawn per global
    sample (the worker's `--per-sample-noise`): the same samples, losses and weights."""
    ref = _train(tmp_path/'one', 1, clips, '--per-sample-noise', batch=2)[0]
    reps = _train(tmp_path/'cp', 4, clips, '--per-sample-noise', 'trainer.context_parallel_size=2')
    assert all('context parallel: 2 data-parallel × 2 (ulysses)' in r['parallel'] for r in reps)
    assert reps[0]['samples'] == reps[1]['samples'] and reps[2]['samples'] == reps[3]['samples']   # a CP group shares its sample
    assert sorted({**reps[0]['samples'], **reps[2]['samples']}) == sorted(ref['samples'])
    got, want = _metrics(tmp_path/'cp'), _metrics(tmp_path/'one')
    for it in want:
        for k in ('loss', 'grad_norm'):
            assert abs(got[it][k] - want[it][k]) <= 1e-5*max(1.0, abs(want[it][k])), (it, k, got[it], want[it])
    diffs = _weights_diff(tmp_path/'one'/RUN, tmp_path/'cp'/RUN, ['iter_000000003_reg_model.pt', 'iter_000000003_ema_model.pt'])
    assert max(diffs.values()) < 1e-5, diffs

def test_cp_lora_ddp_matches_one_process(clips, tmp_path):
    "LoRA (DDP) with CP 2 on 2 ranks: the losses and adapters of one process."
    lora = 'text2world_tiny_lora_example'
    ref = _train(tmp_path/'one', 1, clips, exp=lora)
    reps = _train(tmp_path/'cp', 2, clips, 'trainer.context_parallel_size=2', exp=lora)
    assert all(r['parallel'].startswith('DDP + LoRA') and 'context parallel: 1 data-parallel × 2' in r['parallel'] for r in reps)
    for it, h in ref[0]['history'].items():
        assert abs(reps[0]['history'][it]['loss'] - h['loss']) <= 1e-5*max(1.0, abs(h['loss'])), (it, reps[0]['history'], ref[0]['history'])
    run = Path('posttraining')/'diffusion_text2world'/lora/'checkpoints'
    x, y = _load(tmp_path/'one'/run/'iter_000000003_model.pt'), _load(tmp_path/'cp'/run/'iter_000000003_model.pt')
    for part in ('model', 'ema'):
        d = max((x[part][k].float() - y[part][k].float()).abs().max().item() for k in x[part])
        assert d < 1e-5, (part, d)

def test_cp_size_must_divide_the_processes(clips, tmp_path):
    with pytest.raises(BaseException) as e: _train(tmp_path, 1, clips, 'trainer.context_parallel_size=2')
    assert 'trainer.context_parallel_size=2 needs a multiple of 2 processes and this run has 1' in str(e.value), str(e.value)[-3000:]

# --- inference: `torchrun --nproc_per_node=N -m cosmos_nb.text2world --num_gpus N` ------------------------------------
def _frames(p):
    from decord import VideoReader, cpu
    vr = VideoReader(str(p), ctx=cpu(0))
    return vr.get_batch(list(range(len(vr)))).asnumpy()

@pytest.fixture(scope='module')
def tiny_checkpoints(tmp_path_factory):
    from cosmos_nb.quickstart import make_tiny_checkpoints
    return make_tiny_checkpoints(tmp_path_factory.mktemp('ck')/'checkpoints')

def _t2w_args(ck, out, *extra):
    return ['-m', 'cosmos_nb.text2world', '--checkpoint_dir', ck, '--diffusion_transformer_dir', 'Cosmos-Predict1-7B-Text2World_post-trained',
            '--prompt', 'A video of sks teal robot.', '--num_video_frames', '25', '--height', '32', '--width', '64', '--num_steps', '4',
            '--disable_guardrail', '--disable_prompt_upsampler', '--video_save_folder', out, '--video_save_name', 'v', *extra]

@pytest.mark.parametrize('procs', [2, 4])
def test_num_gpus_writes_the_video_of_one_process(tiny_checkpoints, tmp_path, procs):
    """25 frames = 4 latent frames over 2 and 4 processes (gloo), the DiT offloaded between prompts on every rank:
    the same mp4 as one process with the same seed; only the first rank prints and writes."""
    _run([sys.executable, *_t2w_args(tiny_checkpoints, tmp_path/'one')], tmp_path)
    log = _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={procs}',
                *_t2w_args(tiny_checkpoints, tmp_path/'cp', '--num_gpus', procs, '--offload_diffusion_transformer')], tmp_path, timeout=180)
    assert log.count('Saved video to') == 1 and f'ContextParallel({procs} ranks, ulysses)' in log, log[-3000:]
    a, b = _frames(tmp_path/'one'/'v.mp4'), _frames(tmp_path/'cp'/'v.mp4')
    assert a.shape == b.shape == (25, 32, 64, 3)
    diff = abs(a.astype(int) - b.astype(int))
    print(f"{procs} processes against 1: max {diff.max()} levels, mean {diff.mean():.3f}")
    assert (tmp_path/'cp'/'v.txt').read_text() == 'A video of sks teal robot.'
    assert diff.max() == 0, (diff.max(), diff.mean())

def test_num_gpus_mismatch_and_frames_that_do_not_split(tiny_checkpoints, tmp_path):
    with pytest.raises(BaseException) as e:                          # 17 frames = 3 latent frames: not over 2 ranks
        _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
              *_t2w_args(tiny_checkpoints, tmp_path, '--num_gpus', 2, '--num_video_frames', 17)], tmp_path)
    assert "splits the video's 3 latent frames (17 frames)" in str(e.value) and 'use --num_gpus 1 or 3' in str(e.value), str(e.value)[-2000:]
    with pytest.raises(BaseException) as e:
        _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', *_t2w_args(tiny_checkpoints, tmp_path)], tmp_path)
    assert '2 processes were started but --num_gpus is 1: give --num_gpus 2' in str(e.value), str(e.value)[-2000:]

def test_num_gpus_with_the_prompt_upsampler(tiny_checkpoints, tmp_path):
    "The upsampler on (the default): the first rank upsamples and sends the prompt; 2 processes = 1, video and .txt."
    from cosmos_nb.upsampler import STAND_IN_CAPTION
    args = lambda out, *x: [a for a in _t2w_args(tiny_checkpoints, out, *x) if a != '--disable_prompt_upsampler']
    _run([sys.executable, *args(tmp_path/'one')], tmp_path)
    log = _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
                *args(tmp_path/'cp', '--num_gpus', 2)], tmp_path, timeout=180)
    assert log.count('upsampled prompt:') == 1, log[-3000:]                    # once, on the first rank
    for d in ('one', 'cp'): assert (tmp_path/d/'v.txt').read_text() == STAND_IN_CAPTION
    assert (_frames(tmp_path/'one'/'v.mp4') == _frames(tmp_path/'cp'/'v.mp4')).all()
