"""Check the library's layout: every module comes from a notebook, no module imports a module of a later notebook,
and no `cosmos_nb` import hides inside a function. `python tools/check_layout.py` prints the import order and sizes."""
import ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def module_order() -> dict:
    "`{module: (position, notebook)}` from the `default_exp` of the numbered notebooks, in file-name order."
    out = {}
    for i, nb in enumerate(sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))):
        for c in json.loads(nb.read_text())['cells']:
            m = re.match(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))
            if m: out[m.group(1)] = (i, nb.name); break
    return out

def cosmos_imports(path:Path) -> list:
    "`(module, line, inside_function)` of every import of a cosmos_nb module in `path`."
    tree, out = ast.parse(path.read_text()), []
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    inner = {id(x) for f in funcs for x in ast.walk(f) if x is not f}
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and (n.level == 1 or (n.module or '').startswith('cosmos_nb')):
            mod = (n.module or '').removeprefix('cosmos_nb.') if n.level == 0 else (n.module or '')
            if mod: out.append((mod.split('.')[0], n.lineno, id(n) in inner))
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.startswith('cosmos_nb.'): out.append((a.name.split('.')[1], n.lineno, id(n) in inner))
    return out

def problems() -> list:
    order, bad = module_order(), []
    for path in sorted((ROOT/'cosmos_nb').glob('*.py')):
        if path.stem not in order and path.stem not in ('__init__', '_modidx'):
            bad.append(f"cosmos_nb/{path.name} comes from no notebook (no `#| default_exp {path.stem}`): delete it or its notebook's rename left it behind")
    for mod, (pos, nb) in order.items():
        path = ROOT/'cosmos_nb'/f'{mod}.py'
        for dep, line, inner in cosmos_imports(path):
            if dep not in order: continue
            if inner: bad.append(f"cosmos_nb/{mod}.py:{line} imports cosmos_nb.{dep} inside a function")
            if order[dep][0] > pos: bad.append(f"cosmos_nb/{mod}.py:{line} imports cosmos_nb.{dep} ({order[dep][1]}), a later notebook than {nb}")
    return bad

if __name__ == '__main__':
    order = module_order()
    for mod, (pos, nb) in sorted(order.items(), key=lambda kv: kv[1]):
        deps = sorted({d for d, _, _ in cosmos_imports(ROOT/'cosmos_nb'/f'{mod}.py') if d in order}, key=lambda d: order[d][0])
        n = len((ROOT/'cosmos_nb'/f'{mod}.py').read_text().splitlines())
        print(f"{nb:28s} {mod+'.py':20s} {n:5d} lines  imports: {', '.join(deps) or '—'}")
    bad = problems()
    for b in bad: print('error:', b, file=sys.stderr)
    sys.exit(1 if bad else 0)
