#!/usr/bin/env python
"""Build the docs site from the notebooks, offline: `python tools/build_docs.py` → `_site/` (open `_site/index.html`).

1. nbdev's own processing (`nbdev.processors.FilterDefaults`, the step `nbdev_docs` runs before quarto) turns each
   notebook in `nbs/` into a processed copy: every exported function and class gets nbdev's `show_doc` (signature,
   docments, docstring), `#| hide`/`#| export` cells are dropped, names in backticks are linked to their docs.
2. The processed copies are adapted for a renderer that is not quarto: the front matter becomes the page title,
   `show_doc`'s `output: asis` markdown becomes markdown cells (so every function is a heading with an anchor),
   links to the doc host become links between the pages here, `#|` directives are removed.
3. Sphinx with MyST-NB (config: `docs_src/conf.py`, theme furo) renders them, without executing anything: the
   notebooks carry their outputs (plots, frame strips, inline mp4 videos). Navigation follows the notebook order:
   index, then 00 … 17, then the tutorials.

`nbs/_quarto.yml` stays for those who have quarto (`nbdev_docs`). Options: `--out DIR` (default `_site`),
`--src DIR` keeps the generated Sphinx sources there (default: a temporary folder), `--strict` makes Sphinx
warnings errors. The last line printed is the path of the built `index.html`.
"""
import argparse, configparser, copy, json, os, re, shutil, subprocess, sys, tempfile, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT/'docs_src'


def _ini():
    p = configparser.ConfigParser(); p.read(ROOT/'settings.ini'); return p['DEFAULT']


def notebooks(nbs=None):
    "The notebooks of the site in navigation order: index, the numbered ones (00 … 17, 15a after 15), tutorials."
    nbs = Path(nbs or ROOT/'nbs')
    numbered = sorted(p for p in nbs.glob('*.ipynb') if re.match(r'\d', p.name))
    tutorials = sorted((nbs/'tutorials').glob('*.ipynb'))
    return [nbs/'index.ipynb'] + numbered + tutorials


# ---------------------------------------------------------------------------------------------------------------------
# 1. nbdev's processing
def process(nb_path):
    "The notebook at `nb_path` after nbdev's docs processors (what `nbdev_docs` hands to quarto), as a dict."
    from execnb.nbio import read_nb, nb2str
    from nbdev.processors import FilterDefaults
    nb = read_nb(nb_path)
    FilterDefaults()(nb)
    return json.loads(nb2str(nb))


def _src(cell):
    s = cell.get('source', '')
    return ''.join(s) if isinstance(s, list) else s


# ---------------------------------------------------------------------------------------------------------------------
# 2. adapting the processed notebooks
_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_re_fence = re.compile(r'^(\s*)(```+|~~~+)')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*#*\s*$')


def split_directives(src):
    "Quarto/nbdev `#| key: value` lines at the top of a code cell → (dict, remaining source)."
    lines, d = src.splitlines(), {}
    while lines and _re_dir.match(lines[0]):
        k, v = _re_dir.match(lines[0]).groups(); d[k] = v; lines.pop(0)
    return d, '\n'.join(lines)


def _outside_fences(md, f, g=lambda line: line):
    "Apply `f` to the parts of markdown `md` outside fenced code blocks, and `g` to each line inside them."
    out, buf, fence = [], [], None
    for line in md.splitlines(keepends=True):
        m = _re_fence.match(line)
        if fence is None and m:
            out.append(f(''.join(buf))); buf = []; fence = m.group(2); out.append(line)
        elif fence is not None:
            out.append(g(line))
            if m and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence): fence = None
        else: buf.append(line)
    out.append(f(''.join(buf)))
    return ''.join(out)


_re_mdlink = re.compile(r'\[([^\]\n]*)\]\(([^)\s]+)\)')


def headings(md):
    "The (level, text) of the markdown headings of `md`, fenced code skipped."
    res = []
    def f(part):
        for line in part.splitlines():
            m = _re_heading.match(line)
            if m: res.append((len(m.group(1)), m.group(2)))
        return part
    _outside_fences(md, f)
    return res


def plain(text):
    "Heading text without markdown: what pandoc and MyST make anchors from."
    text = _re_mdlink.sub(r'\1', text)
    return re.sub(r'[`*]|<[^>]+>', '', text).strip()


def pandoc_id(text):
    "The id quarto (pandoc) gives a heading, which is what nbdev's doc links point at."
    s = re.sub(r'[^\w\s.-]', '', plain(text).lower())
    s = re.sub(r'\s+', '-', s.strip())
    return re.sub(r'^[^a-z]+', '', s)


def github_slug(text):
    "The anchor MyST's `myst_heading_anchors` gives a heading (GitHub's rule: lower case, spaces → -, drop punctuation)."
    return re.sub(r'[^\w\u4e00-\u9fff\- ]', '', plain(text).lower().replace(' ', '-'))


_re_source = re.compile(r'\[source\]\((\S+?)\)\{[^}\n]*\}')
def show_doc_md(md):
    "nbdev's show_doc markdown made renderer-neutral: no leading rule, the quarto-attributed source link as HTML."
    md = re.sub(r'^\s*---\s*\n', '', md)
    src = _re_source.search(md)
    md = _re_source.sub('', md)
    if src:          # the source link goes right under the heading, inside the function's section
        md = re.sub(r'^(#{1,6} .*)$', lambda m: f'{m.group(1)}\n\n<a class="nbdev-source" href="{src.group(1)}" '
                    f'target="_blank" rel="noopener">source</a>', md.strip(), count=1, flags=re.M)
    return md.strip() + '\n'


class Site:
    "The pages of the site and how nbdev's doc-host links map onto them."
    def __init__(self, nbs_dir=None):
        ini = _ini()
        self.host = (ini.get('doc_host', '').rstrip('/') + '/' + ini.get('doc_baseurl', '').strip('/')).rstrip('/') + '/'
        self.nbs_dir = Path(nbs_dir or ROOT/'nbs')
        self.pages, self.anchors, self.notes = {}, {}, []

    def page_name(self, nb_path, nb):
        "Docname: the notebook's `output-file` (what nbdev links to), in the notebook's subfolder."
        raw = next((c for c in nb['cells'] if c['cell_type'] == 'raw' and _src(c).lstrip().startswith('---')), None)
        fm = _frontmatter(_src(raw)) if raw else {}
        # nbdev's own rule (doclinks._nbpath2html): the name without its number prefix, e.g. 00_core → core.html
        stem = Path(fm.get('output-file') or re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb_path.name.lower())).stem
        sub = nb_path.parent.relative_to(self.nbs_dir)
        return (sub/stem).as_posix()

    def add(self, nb_path, nb):
        name = self.page_name(nb_path, nb)
        self.pages[name + '.html'] = name
        ids = {}
        for md in _page_markdown(nb):
            for _, text in headings(md):
                ids.setdefault(pandoc_id(text), github_slug(text))
        self.anchors[name] = ids
        return name

    def relink(self, md, doc):
        "Links to the doc host (nbdev's `add_links`) → MyST links to the page (and heading) here."
        if not self.host.startswith('http'): return md
        pat = re.compile(r'\]\(' + re.escape(self.host) + r'([\w./-]+?\.html)(?:#([^)\s]*))?\)')
        def sub(m):
            page = self.pages.get(m.group(1))
            if page is None:
                self.notes.append(f'{doc}: no page for {m.group(0)[2:-1]}'); return m.group(0)
            anchor, target = m.group(2), f'](/{page}.ipynb'
            if anchor:      # a method without its own show_doc: its class's heading
                slug = self.anchors[page].get(anchor) or self.anchors[page].get(anchor.split('.')[0])
                if slug: target += '#' + slug
                else: self.notes.append(f'{doc}: {page} has no heading for #{anchor}: linked to the page')
            return target + ')'
        # nbdev also links names inside code blocks (show_doc's signature), where markdown shows the link literally
        in_code = re.compile(r'\[`?([^\]`\n]*)`?\]\(' + re.escape(self.host) + r'[^)\s]*\)')
        unlink = lambda line: in_code.sub(r'\1', line)
        return _outside_fences(md, lambda part: pat.sub(sub, part), unlink)


def _frontmatter(src):
    import yaml
    body = src.strip().strip('-').strip()
    try: return yaml.safe_load(body) or {}
    except yaml.YAMLError: return {}


def _is_asis(cell):
    d, _ = split_directives(_src(cell))
    return cell['cell_type'] == 'code' and d.get('output') == 'asis'


def _md_outputs(cell):
    return [''.join(o['data']['text/markdown']) if isinstance(o['data']['text/markdown'], list) else o['data']['text/markdown']
            for o in cell.get('outputs', []) if 'text/markdown' in o.get('data', {})]


def _page_markdown(nb):
    "Every piece of markdown that ends up as page text: markdown cells and `output: asis` outputs."
    for c in nb['cells']:
        if c['cell_type'] == 'markdown': yield _src(c)
        elif _is_asis(c): yield from (show_doc_md(m) for m in _md_outputs(c))


def _md_cell(text): return {'cell_type': 'markdown', 'metadata': {}, 'source': text}


def adapt(nb, doc, site, toc=None):
    "A processed notebook → the notebook MyST-NB renders (see the module docstring, step 2)."
    cells = []
    for c in nb['cells']:
        src = _src(c)
        if c['cell_type'] == 'raw':
            if src.lstrip().startswith('---'):
                fm = _frontmatter(src)
                md = f"# {fm.get('title', doc)}\n"
                if fm.get('description'): md += f"\n{{.nb-description}}\n{site.relink(fm['description'], doc)}\n"
                cells.append(_md_cell(md))
            continue
        if c['cell_type'] == 'markdown':
            if src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
            cells.append(_md_cell(site.relink(src, doc))); continue
        d, body = split_directives(src)
        if d.get('output') == 'asis':          # show_doc: its markdown is the page's text, as quarto renders it
            cells += [_md_cell(site.relink(show_doc_md(m), doc)) for m in _md_outputs(c)]
            continue
        c = copy.deepcopy(c)
        c['source'] = body
        meta = c.setdefault('metadata', {})
        tags = set(meta.get('tags', []))
        if d.get('echo') == 'false': tags.add('remove-input')
        if d.get('output') == 'false': tags.add('remove-output')
        if d.get('include') == 'false': continue
        if tags: meta['tags'] = sorted(tags)
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if 'text/markdown' in data:
                m = data['text/markdown']; m = ''.join(m) if isinstance(m, list) else m
                data['text/markdown'] = site.relink(m, doc)
        if not body.strip() and not c.get('outputs'): continue
        cells.append(c)
    if toc: cells.append(_md_cell(toc))
    for i, c in enumerate(cells): c['id'] = f'c{i}'
    meta = {k: v for k, v in nb.get('metadata', {}).items() if k not in ('widgets',)}
    meta['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    meta['language_info'] = {'name': 'python', 'pygments_lexer': 'ipython3'}
    return {'cells': cells, 'metadata': meta, 'nbformat': 4, 'nbformat_minor': 5}


def toctree(docs):
    "Hidden toctrees (the sidebar) appended to the index page: the index itself, Library (00 … 17), then Tutorials."
    lib = [d for d in docs if '/' not in d and d != 'index']
    tut = [d for d in docs if d.startswith('tutorials/')]
    part = lambda cap, ds: "```{toctree}\n:hidden:\n" + (f":caption: {cap}\n" if cap else '') + '\n' + '\n'.join(ds) + '\n```\n'
    return '\n'.join(part(c, ds) for c, ds in ((None, ['self']), ('Library', lib), ('Tutorials', tut)) if ds)


def write_sources(src_dir, nbs_dir=None, log=print):
    "Process and adapt every notebook into `src_dir` (Sphinx's source folder); returns the docnames in order."
    src_dir = Path(src_dir)
    os.environ['IN_TEST'] = '1'          # as nbdev's docs driver does while it runs the export cells
    site, processed = Site(nbs_dir), []
    for p in notebooks(nbs_dir):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            nb = process(p)
        processed.append((p, nb, site.add(p, nb)))
        log(f'processed {p.relative_to(site.nbs_dir.parent)}')
    docs = [d for _, _, d in processed]
    for p, nb, doc in processed:
        out = src_dir/(doc + '.ipynb')
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(adapt(nb, doc, site, toc=toctree(docs) if doc == 'index' else None), indent=1))
    for n in dict.fromkeys(site.notes): log('note: ' + n)
    return docs


# ---------------------------------------------------------------------------------------------------------------------
# 3. rendering
def sphinx(src_dir, out_dir, strict=False, log=print):
    "Render `src_dir` into `out_dir` (MyST-NB writes its `jupyter_execute/` beside Sphinx's output: a temporary one)."
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix='cosmos_nb_sphinx_') as tmp:
        html = Path(tmp)/'html'
        cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-E', '-c', str(CONF_DIR), '-d', str(Path(tmp)/'doctrees'),
               str(src_dir), str(html)] + (['-W', '--keep-going'] if strict else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.stdout.strip(): log(r.stdout.strip())
        if r.stderr.strip(): log(r.stderr.strip())
        if r.returncode: raise SystemExit(f'sphinx-build failed ({r.returncode})')
        if (html/'_sources').is_dir() and not any((html/'_sources').iterdir()): (html/'_sources').rmdir()
        (html/'.nojekyll').touch()
        _clear(out_dir, '.nojekyll')
        shutil.copytree(html, out_dir)
    return out_dir/'index.html'


_SRC_MARK = '.cosmos_nb_docs_src'

def _clear(folder, mark):
    "Remove `folder` before writing it anew, but only when it is empty or a previous build (it holds `mark`)."
    folder = Path(folder)
    if not folder.exists(): return
    if any(folder.iterdir()) and not (folder/mark).exists():
        raise SystemExit(f'{folder} is not empty and was not written by build_docs.py: not overwriting it')
    shutil.rmtree(folder)


def build(out=ROOT/'_site', src=None, strict=False, nbs_dir=None, log=print):
    "Build the site into `out`; returns the path of its `index.html`."
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not (out/'.nojekyll').exists():    # fail before the slow part
        raise SystemExit(f'{out} is not empty and was not written by build_docs.py: not overwriting it')
    cwd = os.getcwd(); os.chdir(ROOT)              # nbdev reads settings.ini from the working folder up
    try:
        tmp = None if src else tempfile.mkdtemp(prefix='cosmos_nb_docs_')
        src_dir = Path(src or tmp)
        if src: _clear(src_dir, _SRC_MARK)
        src_dir.mkdir(parents=True, exist_ok=True)
        (src_dir/_SRC_MARK).touch()
        write_sources(src_dir, nbs_dir, log=log)
        return sphinx(src_dir, out, strict=strict, log=log)
    finally:
        os.chdir(cwd)
        if tmp: shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT/'_site'), help='output folder (default: _site)')
    ap.add_argument('--src', default=None, help='keep the generated Sphinx sources in this folder')
    ap.add_argument('--strict', action='store_true', help='turn Sphinx warnings into errors')
    a = ap.parse_args()
    print(build(a.out, a.src, a.strict))


if __name__ == '__main__': main()
