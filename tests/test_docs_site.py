"""The docs site (`python tools/build_docs.py` → `_site/`), checked as a reader sees it: built from the notebooks into a
temporary folder, served on localhost and opened page by page in headless Chromium (Debian's `chromium`, driven
through the `playwright` Python package with `executable_path`; no browser is downloaded).

Every page must load with HTTP 200 and no JavaScript error, request nothing from outside the site, decode every
<img>, have every <video> playable (a source whose type `canPlayType` accepts, metadata loaded, playback advances),
and link only to pages, files and anchors of the site that exist. The sidebar must list the notebooks in order, and
every exported function and class must have its API heading. `test_checker_catches_a_broken_page` shows that the
checker fails on a page with each of those faults.

One screenshot per kind of page is taken (index, API notebook, tutorial, a page with a video); set
`DOCS_CHECK_SAVE=1` to write them to `docs_check/` for review (otherwise they go to a temporary folder).
"""
import ast, functools, http.server, io, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path
from urllib.parse import urljoin, urlsplit, unquote
from urllib.request import urlopen, Request
from urllib.error import HTTPError, URLError
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = '/usr/bin/chromium'
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f'{CHROMIUM} is absent: apt-get install -y chromium (CI installs it in .ci/run)')
# As root in a closed network: no sandbox, and none of Chromium's own background connections.
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--autoplay-policy=no-user-gesture-required']
SHOTS = {'index': 'index.html', 'api_page': 'core.html', 'tutorial': 'tutorials/quickstart_tiny.html',
         'video_page': 'inference.html'}
MAX_SHOT_BYTES = 300_000


# ---------------------------------------------------------------------------------------------------------------------
# serving a folder and driving Chromium
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


class serve:
    "Serve `folder` on 127.0.0.1 (a free port) in a thread: `with serve(d) as base_url: ...`."
    def __init__(self, folder): self.folder = str(folder)
    def __enter__(self):
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=self.folder))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f'http://127.0.0.1:{self.httpd.server_address[1]}/'
    def __exit__(self, *a): self.httpd.shutdown(); self.httpd.server_close()


@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:      # launch() gives every run a fresh temporary profile (user data dir)
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


_MEDIA_JS = """async (timeoutMs) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const imgs = [...document.querySelectorAll('img')];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.race([Promise.all(imgs.map(i => i.decode().catch(() => null))), sleep(timeoutMs)]);
  const images = imgs.map(i => ({src: i.currentSrc || i.src, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}));
  const videos = [];
  for (const v of document.querySelectorAll('video')) {
    const srcs = (v.getAttribute('src') ? [{src: v.src, type: v.getAttribute('type') || ''}] : [])
      .concat([...v.querySelectorAll('source')].map(s => ({src: s.src, type: s.type || ''})));
    for (const s of srcs) {
      if (!s.type && s.src.startsWith('data:')) s.type = s.src.slice(5).split(/[;,]/)[0];
      if (!s.type) { const ext = s.src.split(/[?#]/)[0].split('.').pop().toLowerCase();
                     s.type = ({mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', ogv: 'video/ogg', mov: 'video/quicktime'})[ext] || ''; }
      s.canPlay = s.type ? v.canPlayType(s.type) : '';
      s.src = s.src.slice(0, 80);
    }
    const t0 = performance.now();
    while (v.readyState < 1 && !v.error && performance.now() - t0 < timeoutMs) await sleep(50);
    let played = false, playError = '';
    if (v.readyState >= 1) {
      v.muted = true;
      try { await Promise.race([v.play(), sleep(timeoutMs)]); } catch (e) { playError = String(e); }
      const c0 = v.currentTime, t1 = performance.now();
      while (!(v.currentTime > c0 || v.currentTime > 0) && performance.now() - t1 < timeoutMs) await sleep(50);
      played = v.currentTime > 0;
    }
    videos.push({sources: srcs, readyState: v.readyState, duration: v.duration, width: v.videoWidth,
                 error: v.error ? v.error.code : null, played, playError});
  }
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id)
    .concat([...document.querySelectorAll('a[name]')].map(a => a.name));
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map(h => h.textContent.replace(/[\\u00b6#]\\s*$/, '').trim());
  return {images, videos, links, ids, headings, title: document.title};
}"""


def _norm(url):
    "A same-site URL → its page key: the path, with `index.html` for folders."
    path = unquote(urlsplit(url).path)
    return path + 'index.html' if path.endswith('/') else path


def check_site(browser, site_dir, pages=None, shots=None, shot_dir=None, media_timeout_ms=8000):
    """Open every page of the site in `site_dir` (or only `pages`, relative paths) and return (problems, info):
    problems is a list of strings (empty when the site is fine), info maps each page to what was found on it."""
    site_dir = Path(site_dir)
    pages = pages or sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob('*.html'))
    problems, info = [], {}
    with serve(site_dir) as base:
        origin = urlsplit(base).netloc
        ctx = browser.new_context(viewport={'width': 1200, 'height': 800}, service_workers='block')
        outside = []
        def route(r):     # the site must work offline: anything not from this server is refused and reported
            u = r.request.url
            if urlsplit(u).scheme in ('data', 'blob') or urlsplit(u).netloc == origin: r.continue_()
            else: outside.append(u); r.abort()
        ctx.route('**/*', route)
        page = ctx.new_page()
        events = []
        page.on('pageerror', lambda e: events.append(f'JS error: {e}'))
        page.on('console', lambda m: events.append(f'console {m.type}: {m.text}') if m.type == 'error' else None)
        page.on('requestfailed', lambda r: events.append(f'request failed: {r.url[:120]} ({r.failure})')
                if urlsplit(r.url).netloc == origin else None)
        page.on('response', lambda r: events.append(f'HTTP {r.status}: {r.url[:120]}') if r.status >= 400 else None)
        for rel in pages:
            events.clear(); outside.clear()
            url = urljoin(base, rel)
            try: resp = page.goto(url, wait_until='load', timeout=30_000)
            except Exception as e: problems.append(f'{rel}: does not load: {e}'); continue
            if resp is None or resp.status != 200: problems.append(f'{rel}: HTTP {resp.status if resp else "none"}')
            found = page.evaluate(_MEDIA_JS, media_timeout_ms)
            info[_norm(url)] = dict(found, rel=rel)
            for im in found['images']:
                if not (im['complete'] and im['w'] > 0): problems.append(f"{rel}: image does not decode: {im['src'][:80]}")
            for i, v in enumerate(found['videos']):
                ok = [s for s in v['sources'] if s['canPlay'] in ('maybe', 'probably')]
                if not ok: problems.append(f"{rel}: video {i} has no source Chromium can play: {v['sources']}")
                elif v['error'] is not None or v['readyState'] < 1 or not v['duration'] > 0:
                    problems.append(f"{rel}: video {i} does not load (readyState {v['readyState']}, error {v['error']}, "
                                    f"duration {v['duration']})")
                elif not v['played']: problems.append(f"{rel}: video {i} does not play ({v['playError']})")
            problems += [f'{rel}: {e}' for e in events]
            problems += [f'{rel}: requests something outside the site: {u[:120]}' for u in dict.fromkeys(outside)]
            for name, target in (shots or {}).items():
                if target == rel: _screenshot(page, Path(shot_dir)/f'{name}.png', video=name == 'video_page')
        ctx.close()
        problems += _check_links(base, info)
    return problems, info


def _check_links(base, info):
    "Every same-site link must reach a file that exists (HTTP 200), and its #anchor an element of the page."
    problems, status = [], {}
    origin = urlsplit(base).netloc
    for key, found in info.items():
        for href in found['links']:
            u = urlsplit(href)
            if u.scheme not in ('http', 'https') or u.netloc != origin: continue
            target = _norm(href)
            if target not in status:
                if target in info: status[target] = 200
                else:
                    try: status[target] = urlopen(Request(urljoin(base, target)), timeout=10).status
                    except HTTPError as e: status[target] = e.code
                    except URLError as e: status[target] = str(e)
            if status[target] != 200:
                problems.append(f"{found['rel']}: dead link {href} ({status[target]})"); continue
            frag = unquote(u.fragment)
            if frag and target in info and frag not in info[target]['ids']:
                problems.append(f"{found['rel']}: link to a missing anchor {href}")
    return sorted(set(problems))


def _screenshot(page, path, video=False):
    "A small PNG of the viewport (on a video page, scrolled to the first video); palette-quantised to stay small."
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    if video: page.locator('video').first.scroll_into_view_if_needed()
    else: page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")
    page.wait_for_timeout(500)         # let the scroll and the first video frames settle
    im = Image.open(io.BytesIO(page.screenshot(type='png'))).convert('RGB')
    im = im.resize((im.width*3//4, im.height*3//4), Image.LANCZOS).quantize(colors=128)
    im.save(path, optimize=True)


# ---------------------------------------------------------------------------------------------------------------------
# the site built from the notebooks
@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')/'site'
    t = time.time()
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out), '--strict'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f'the docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}'
    print(f'built the site in {time.time() - t:.0f} s')
    return out


def _expected_order():
    sys.path.insert(0, str(ROOT/'tools'))
    from build_docs import notebooks, Site
    site = Site()
    return [site.page_name(p, {'cells': []}) for p in notebooks()]


def test_site_pages_media_and_links(site, browser):
    shot_dir = ROOT/'docs_check' if os.environ.get('DOCS_CHECK_SAVE') else site.parent/'shots'
    t = time.time()
    problems, info = check_site(browser, site, shots=SHOTS, shot_dir=shot_dir)
    print(f'checked {len(info)} pages in {time.time() - t:.0f} s')
    assert not problems, f'{len(problems)} problems:\n' + '\n'.join(problems[:60])
    # every notebook is a page, the media are there, and the screenshots were taken and are small
    docs = _expected_order()
    assert {f'/{d}.html' for d in docs} <= set(info), sorted(set(f'/{d}.html' for d in docs) - set(info))
    n_img = sum(len(f['images']) for f in info.values()); n_vid = sum(len(f['videos']) for f in info.values())
    assert n_img > 50 and n_vid >= 5, (n_img, n_vid)
    for name in SHOTS:
        p = shot_dir/f'{name}.png'
        assert p.exists() and 0 < p.stat().st_size < MAX_SHOT_BYTES, (p, p.stat().st_size if p.exists() else None)


def test_navigation_in_notebook_order(site):
    "The sidebar (the same on every page) lists index, 00 … 17 (15a after 15), then the tutorials."
    html = (site/'genindex.html').read_text()          # a page that is not itself in the sidebar (no `#` link)
    tree = html[html.index('class="sidebar-tree"'):]
    tree = tree[:tree.index('</div>')]
    got = [h[:-len('.html')] for h in re.findall(r'<a class="reference internal" href="([^"#]+)"', tree)]
    want = _expected_order()
    nbs = ROOT/'nbs'
    numbered = sorted(p.name for p in nbs.glob('[0-9]*.ipynb'))
    assert numbered.index('15_train.ipynb') < numbered.index('15a_upsampler.ipynb') < numbered.index('16_inference.ipynb')
    assert want == (['index'] + [re.sub(r'^\d+[a-z0-9]*_', '', n)[:-len('.ipynb')] for n in numbered]
                    + [f'tutorials/{p.stem}' for p in sorted((nbs/'tutorials').glob('*.ipynb'))])
    assert got == want, (got, want)


def _exported_defs():
    "{module page: [public functions and classes in `__all__`]} for every module of the library."
    from cosmos_nb._modidx import d
    res = {}
    for mod, syms in d['syms'].items():
        src = ROOT/syms[next(iter(syms))][1] if syms else None
        if src is None or not src.exists(): continue
        tree = ast.parse(src.read_text())
        alls = [n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets)]
        names = set(ast.literal_eval(alls[0].value)) if alls else set()
        defs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and n.name in names and not n.name.startswith('_')]
        for name in defs:
            page = syms.get(f'{mod}.{name}', ('',))[0].split('#')[0]
            if page: res.setdefault(page, []).append(name)
    return res


def test_api_reference_of_every_export(site):
    "Every exported function and class has show_doc's heading, signature and docstring on its notebook's page."
    missing, n = [], 0
    for page, names in _exported_defs().items():
        html = (site/page).read_text()
        heads = {re.sub(r'<[^>]+>|¶|#', '', h).strip() for h in re.findall(r'<h[2-5][^>]*>(.*?)</h[2-5]>', html, re.S)}
        for name in names:
            n += 1
            if name not in heads: missing.append(f'{page}: {name}')
    assert n > 100 and not missing, f'{n} exports, no API heading for:\n' + '\n'.join(missing)
    directive = re.compile(r'#\|\s*(hide|export|exporti|exports|echo|output|default_exp|code-fold)\b')
    leaks = [p.name for p in site.rglob('*.html') if directive.search(p.read_text())]
    assert not leaks, f'nbdev/quarto cell directives shown on: {leaks}'
    core = (site/'core.html').read_text()      # show_doc's signature (with docments) and its source link
    i = core.index('id="seed-everything"')
    assert 'seed_everything' in core[i:i+3000] and 'data-parallel rank' in core[i:i+3000] and 'nbdev-source' in core[i:i+3000]


# ---------------------------------------------------------------------------------------------------------------------
# the checker fails when it should
_PNG_1PX = ('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==')

def test_checker_catches_a_broken_page(browser, tmp_path):
    good_video = _a_video_from_the_notebooks()
    (tmp_path/'img').mkdir()
    (tmp_path/'other.html').write_text('<html><body><h1 id="there">there</h1></body></html>')
    (tmp_path/'index.html').write_text(f"""<html><head><title>t</title></head><body>
      <img src="data:image/png;base64,{_PNG_1PX}"> <video muted src="{good_video}"></video>
      <a href="other.html#there">fine</a> <a href="https://example.com/">external, not followed</a>
      <img src="img/missing.png">
      <img src="data:image/png;base64,AAAA">
      <video><source src="data:video/x-nope;base64,AAAA" type="video/x-nope"></video>
      <video><source src="data:video/mp4;base64,AAAAAAAA" type="video/mp4"></video>
      <a href="nowhere.html">dead</a> <a href="other.html#nothere">bad anchor</a>
      <script src="https://cdn.example.com/lib.js"></script>
      <script>undefinedFunction();</script>
    </body></html>""")
    problems, info = check_site(browser, tmp_path, media_timeout_ms=3000)
    text = '\n'.join(problems)
    expect = {'missing image file': 'image does not decode: http', 'image that does not decode': 'image does not decode: data',
              'unplayable type': 'no source Chromium can play', 'broken mp4': 'video 2 does not load',
              'dead link': 'dead link', 'missing anchor': 'missing anchor', 'JS error': 'JS error',
              'external request': 'outside the site', 'HTTP 404': 'HTTP 404'}
    for what, needle in expect.items(): assert needle in text, f'the checker missed the {what}:\n{text}'
    assert not any('video 0' in p or 'other.html#there' in p or 'example.com/"' in p for p in problems), text
    assert len(info['/index.html']['images']) == 3 and len(info['/index.html']['videos']) == 3


def _a_video_from_the_notebooks():
    "The first inline mp4 (a data URI) stored in the notebooks' outputs."
    import json
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            for o in c.get('outputs', []):
                m = re.search(r'src="(data:video/mp4;base64,[^"]+)"', ''.join(o.get('data', {}).get('text/html', '')))
                if m: return m.group(1)
    pytest.fail('no notebook output holds an inline mp4')
