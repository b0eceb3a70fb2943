"""Execute notebooks and store their outputs in them, for committing: the cells `nbdev_test` runs, run the same way.

    python tools/run_notebooks.py                      # every notebook under nbs/
    python tools/run_notebooks.py nbs/07_diffusion.ipynb --flags cuda

Each notebook runs top to bottom in a fresh IPython shell, in its own folder, skipping what `nbdev_test` skips
(`#| eval: false`, cells flagged with settings.ini's `tst_flags` unless named in `--flags`, the `nbdev_export()` cell).
A skipped cell keeps the outputs it has (a `#| cuda` cell keeps those of its last GPU run). Plots are stored as PNG.
The notebook is written only when every cell ran; then `nbdev_clean` normalises it (outputs stay); other notebooks
are not touched, so several can run at once.
"""
import argparse, configparser, os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.process import extract_directives
from nbdev.clean import nbdev_clean

ROOT = Path(__file__).resolve().parent.parent

def _tst_flags() -> set:
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return set(cfg['DEFAULT'].get('tst_flags', '').split())

def run_notebook(path:Path, skip:set) -> float:
    "Run `path` and write its outputs into it; returns the seconds it took (raises on the first failing cell)."
    nb = read_nb(path)
    def skipped(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        d = extract_directives(cell, remove=False)
        if d.get('eval:', [''])[0].lower() == 'false': return True
        return bool(skip & d.keys())
    t0 = time.time()
    os.environ['IN_TEST'] = '1'
    shell = CaptureShell(path, mpl_format='png')
    cwd = Path.cwd()
    try:
        os.chdir(path.parent)
        shell.run_all(nb, exc_stop=True, preproc=skipped)
    except Exception:
        sys.stderr.write(shell.prettytb(fname=path) + '\n')
        raise SystemExit(f"{path}: a cell failed; the notebook was not written")
    finally: os.chdir(cwd)
    for c in nb.cells:
        for k in [k for k in c if k.endswith('_') or k == 'idx_']: c.pop(k, None)
    write_nb(nb, path)
    return time.time() - t0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: every one under nbs/)')
    ap.add_argument('--flags', default='', help='test flags to run anyway, e.g. "cuda slow"')
    a = ap.parse_args()
    nbs = [Path(p).resolve() for p in a.notebooks] or sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
                                                       if not any(s.startswith(('_', '.')) for s in p.relative_to(ROOT/'nbs').parts))
    skip = _tst_flags() - set(a.flags.split())
    for p in nbs:
        print(f"{p.relative_to(ROOT)}: {run_notebook(p, skip):.0f} s", flush=True)
        nbdev_clean(fname=str(p))
