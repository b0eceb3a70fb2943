"""The README's "Your own run, step by step": every command of its shell block, run exactly as printed, in order,
in a fresh folder — with a few synthetic clips and captions standing in for the user's own videos (step 1)."""
import os, re, shlex, subprocess, sys
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SECTION = '## Your own run, step by step'

def readme_commands() -> list:
    "The commands of the first ```bash block after the section's heading (comments and blank lines dropped, `\\` joined)."
    text = (ROOT/'README.md').read_text()
    assert SECTION in text, f"README.md has no '{SECTION}' section"
    block = re.search(r'```bash\n(.*?)```', text[text.index(SECTION):], re.S).group(1)
    cmds, cur = [], ''
    for line in block.splitlines():
        line = line.split(' #', 1)[0].rstrip() if not line.lstrip().startswith('#') else ''
        if not line.strip(): continue
        cur += line[:-1] + ' ' if line.endswith('\\') else line
        if not line.endswith('\\'): cmds.append(cur.strip()); cur = ''
    return cmds

def your_videos(folder:Path):
    "Step 1 of the section: three clips and their captions, as a user would copy them in."
    from cosmos_nb.core import make_toy_video, write_video
    for i, cap in enumerate(["A red ball rolls across a table.", "A robot arm picks up a cube.", "Waves roll onto a beach."]):
        write_video(folder/'videos'/f'clip_{i}.mp4', make_toy_video(25, 64, 96, seed=10 + i), fps=24)
        (folder/'metas').mkdir(parents=True, exist_ok=True)
        (folder/'metas'/f'clip_{i}.txt').write_text(cap)

def test_readme_steps(tmp_path):
    cmds = readme_commands()
    assert any(c.startswith('python -m cosmos_nb.train') for c in cmds) and any('cosmos_nb.text2world' in c for c in cmds), cmds
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", OMP_NUM_THREADS='2')
    for c in cmds:
        if c.startswith('python -m cosmos_nb.prepare') and not (tmp_path/'datasets'/'my_videos').exists():
            your_videos(tmp_path/'datasets'/'my_videos')
        r = subprocess.run(c, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"$ {c}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    videos = sorted((tmp_path/'outputs').glob('*.mp4'))
    assert any(v.stem == 'my_run' for v in videos), videos
