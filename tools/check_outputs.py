"""Check that the notebooks carry their outputs: what each one shows (plots, frames, videos, tables, printed results).

Every notebook under nbs/ has a line in `tools/notebook_outputs.json`: how many rich outputs (images, HTML — frame
strips and videos —, markdown tables) and how many text outputs it had when its outputs were last committed. The
check fails when a notebook has fewer of either (its outputs were cleared, or a figure was lost), when a notebook is
missing from the file, or when the notebooks together pass 10 MB.

    python tools/check_outputs.py            # check (CI)
    python tools/check_outputs.py --update   # record the current counts (after `python tools/run_notebooks.py`)
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT/'tools'/'notebook_outputs.json'
MAX_BYTES = 10*2**20
RICH = ('image/png', 'image/jpeg', 'image/svg+xml', 'text/html', 'text/markdown')

def notebooks() -> list:
    "The notebooks the tests run (nbdev's rule: no file or folder starting with `_` or `.`)."
    return sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
                  if not any(s.startswith(('_', '.')) for s in p.relative_to(ROOT/'nbs').parts))

def count(path:Path) -> dict:
    "`{'rich': n, 'text': n}` outputs of the notebook at `path`."
    rich = text = 0
    for c in json.loads(path.read_text())['cells']:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error': continue
            if any(k in o.get('data', {}) for k in RICH): rich += 1
            elif o.get('output_type') == 'stream' or 'text/plain' in o.get('data', {}): text += 1
    return dict(rich=rich, text=text)

def problems() -> list:
    rec, bad = json.loads(RECORD.read_text()) if RECORD.exists() else {}, []
    total = 0
    for p in notebooks():
        name, have = str(p.relative_to(ROOT/'nbs')), count(p)
        total += p.stat().st_size
        want = rec.get(name)
        if want is None: bad.append(f"nbs/{name} is not in {RECORD.name}: run its cells (tools/run_notebooks.py), then tools/check_outputs.py --update")
        elif have['rich'] < want['rich'] or have['text'] < want['text']:
            bad.append(f"nbs/{name} lost outputs: {have['rich']} rich / {have['text']} text, {want['rich']} / {want['text']} recorded: "
                       f"run `python tools/run_notebooks.py nbs/{name}` and commit the notebook")
    if total > MAX_BYTES: bad.append(f"the notebooks take {total/2**20:.1f} MiB together, more than {MAX_BYTES/2**20:.0f} MiB: make figures smaller")
    return bad

if __name__ == '__main__':
    if '--update' in sys.argv:
        RECORD.write_text(json.dumps({str(p.relative_to(ROOT/'nbs')): count(p) for p in notebooks()}, indent=1) + '\n')
        print(f"wrote {RECORD}")
    bad = problems()
    for b in bad: print('error:', b)
    n = notebooks()
    print(f"{len(n)} notebooks, {sum(p.stat().st_size for p in n)/2**20:.1f} MiB, "
          f"{sum(count(p)['rich'] for p in n)} rich outputs" + ('' if bad else ': outputs present'))
    sys.exit(1 if bad else 0)
