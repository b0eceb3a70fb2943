"""Run every notebook's cells as tests (like `nbdev_test`), one pytest test per notebook.

Cells flagged with `tst_flags` from settings.ini (slow, cuda, multigpu, hub, notest) are skipped unless named in
`pytest --flags "cuda slow"`. Notebooks and folders whose names start with `_` or `.` are not run (nbdev's rule).
"""
import configparser, os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))

def _tst_flags():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT'].get('tst_flags', '').split()

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook(nb, request):
    from nbdev.test import test_nb
    force = request.config.getoption('--flags').split()
    ok, secs = test_nb(nb, skip_flags=_tst_flags(), force_flags=force, showerr=True)
    assert ok, f'{nb.name} failed (traceback above)'

def test_found_notebooks():
    names = {p.name for p in NBS}
    assert {'index.ipynb', '00_core.ipynb', '01_config.ipynb'} <= names, names
