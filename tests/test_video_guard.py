"""The video guardrails as the pipeline uses them: through the exported module, outside the notebook (a few seconds on a CPU)."""
import hashlib
import numpy as np
import pytest
import torch
from cosmos_nb.core import CosmosError, make_toy_video
from cosmos_nb.checkpoint import is_stand_in
from cosmos_nb.video_guard import (VideoGuardrails, make_tiny_video_guardrails, draw_face, pixelate, nms, RetinaFace,
                                   num_priors, load_retinaface, read_retinaface_state_dict, CLASS_NAMES)

@pytest.fixture(scope='module')
def video():
    v = make_toy_video(6, 64, 96, seed=1)
    draw_face(v, 40, 30, 14)
    return v

def test_stand_in_passes_and_blocks(tmp_path, video):
    ok = make_tiny_video_guardrails(tmp_path/'checkpoints'/'nvidia'/'Cosmos-Guardrail1')
    assert is_stand_in(ok) and is_stand_in(ok/'face_blur_filter')
    g = VideoGuardrails.from_pretrained(tmp_path/'checkpoints', device='cpu', batch_size=4)
    out, msg = g.check(video)
    assert msg is None and out is not video and np.array_equal(out, video)      # no face found by the stand-in: frames unchanged
    bad = make_tiny_video_guardrails(tmp_path/'unsafe', verdict='Self-Harm')
    out, msg = VideoGuardrails.from_pretrained(bad, device='cpu').check(video)
    assert out is None and msg == 'video content safety filter: frame 0 classified Self-Harm'

def test_missing_folder_says_how_to_download(tmp_path):
    with pytest.raises(CosmosError, match='python -m cosmos_nb.download'): VideoGuardrails.from_pretrained(tmp_path/'none')

def test_face_weights_load_strictly(tmp_path):
    d = make_tiny_video_guardrails(tmp_path/'g')
    sd = read_retinaface_state_dict(d/'face_blur_filter'/'Resnet50_Final.pth')
    assert not any(k.startswith('module.') for k in sd)
    sd.pop('ssh3.conv7x7_3.1.weight'); torch.save(sd, tmp_path/'cut.pth')
    with pytest.raises(CosmosError, match=r'cut.pth: does not match the RetinaFace network \(missing keys: ssh3.conv7x7_3.1.weight\)'):
        load_retinaface(tmp_path/'cut.pth', device='cpu')

def test_released_retinaface_layout():
    with torch.device('meta'): net = RetinaFace()
    lines = '\n'.join(f"{k} {tuple(v.shape)}" for k, v in net.state_dict().items())
    assert hashlib.sha256(lines.encode()).hexdigest() == '44c12068268356e8f31bfd26d64b517655bab8662a5541211e91171a4fcaaf92'
    assert num_priors(704, 1280) == 36_960 and len(CLASS_NAMES) == 7

def test_pixelate_matches_opencv():
    rng = np.random.default_rng(2024)
    rois = []
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 120, 2))
        rois.append(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    got = hashlib.sha256(b''.join(pixelate(r).tobytes() for r in rois)).hexdigest()
    assert got == '1a092103358d00e29a2cf55391c2db848d1cb23949d8f73de49beddee33b1771'   # opencv-python-headless 4.10.0.84

def test_nms_keeps_best_of_overlaps():
    b = torch.tensor([[0., 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    assert nms(b, torch.tensor([.8, .9, .7]), 0.4).tolist() == [1, 2]
