"""Repository-level checks: README in step with index.ipynb, the library's layout, the notebooks' outputs."""
import subprocess, sys, shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_readme_matches_index():
    sys.path.insert(0, str(ROOT/'tools'))
    from make_readme import render
    assert (ROOT/'README.md').read_text() == render(), 'README.md is out of date: run python tools/make_readme.py'

def test_readme_has_two_commands():
    text = (ROOT/'README.md').read_text()
    assert 'pip install -e . && python -m cosmos_nb.quickstart' in text
    assert 'pip install -e ".[dev]" && pytest' in text

def test_config_cli_runs_as_module():
    r = subprocess.run([sys.executable, '-m', 'cosmos_nb.config', 'experiment=text2world_tiny_example', 'trainer.max_iter=7'],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith('trainer.max_iter')][0]
    assert line.split('=')[1].strip() == '7'
    bad = subprocess.run([sys.executable, '-m', 'cosmos_nb.config', 'experiment=text2world_tiny_example', 'trainer.max_itr=7'],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0 and 'trainer.max_iter' in bad.stderr and 'Traceback' not in bad.stderr

def test_layout():
    "Modules come from notebooks, import only earlier ones, and never import cosmos_nb inside a function."
    sys.path.insert(0, str(ROOT/'tools'))
    from check_layout import problems
    assert problems() == []

def test_notebooks_carry_outputs():
    "Every notebook still has the outputs (plots, frames, videos, tables) recorded in tools/notebook_outputs.json."
    sys.path.insert(0, str(ROOT/'tools'))
    from check_outputs import problems
    assert problems() == []

def test_tutorials_run_under_jupyter(tmp_path):
    "Every tutorial runs top to bottom under Jupyter's own executor (which, unlike nbdev_test, knows no cell flags)."
    for nb in sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb')):
        r = subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', str(nb),
                            '--output-dir', str(tmp_path), '--ExecutePreprocessor.timeout=600'], capture_output=True, text=True)
        assert r.returncode == 0, f"{nb.name}:\n{r.stderr[-3000:]}"
        assert (tmp_path/nb.name).exists()

def test_docs_processing(tmp_path):
    "`nbdev_docs` first processes every notebook, running its import and export cells (quarto renders the result,"
    "when it is installed): that step must go through every notebook without an error."
    r = subprocess.run([sys.executable, '-c', 'from nbdev.serve import proc_nbs; proc_nbs(n_workers=0, force=True)'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and 'Error in notebook' not in r.stderr, r.stderr[-3000:]
    assert {p.name for p in (ROOT/'_proc').glob('*.ipynb')} >= {'00_core.ipynb', '15_train.ipynb', 'index.ipynb'}
