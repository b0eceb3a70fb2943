# Sphinx configuration of the offline docs site, built by `python tools/build_docs.py` (→ `_site/`).
# tools/build_docs.py runs nbdev's own notebook processing (show_doc for every exported function, `#| hide`, ...)
# and writes the processed notebooks to a temporary source folder; Sphinx renders them with MyST-NB, without
# executing them (the notebooks carry their outputs), in the furo theme. nbs/_quarto.yml stays for quarto users.
import configparser, pathlib

_ini = configparser.ConfigParser()
_ini.read(pathlib.Path(__file__).resolve().parent.parent/'settings.ini')
_cfg = _ini['DEFAULT']

project = _cfg['title']
author = _cfg['author']
copyright = _cfg['copyright']
release = version = _cfg['version']

extensions = ['myst_nb']
root_doc = 'index'
exclude_patterns = ['_build', '**.ipynb_checkpoints']
source_suffix = {'.ipynb': 'myst-nb', '.md': 'myst-nb'}

# MyST-NB: render the stored outputs, never run a kernel
nb_execution_mode = 'off'
nb_merge_streams = True
nb_render_markdown_format = 'myst'         # `Markdown(...)` outputs: tables, and links between pages resolved
nb_ipywidgets_js = {}                      # no widget manager from a CDN: the site must work offline
myst_enable_extensions = ['attrs_block', 'attrs_inline', 'html_image', 'strikethrough']
myst_heading_anchors = 6                   # build_docs.py links `[f](/page.ipynb#slug)` to API headings
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header']   # show_doc puts methods at h4 under h2 sections

html_theme = 'furo'
html_title = f"{_cfg['title']} {_cfg['version']}"
html_static_path = ['_static']
html_css_files = ['cosmos_nb.css']
html_copy_source = False                  # the notebooks are big (embedded media); don't ship them twice
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {'source_repository': _cfg['git_url'] + '/', 'source_branch': _cfg['branch'],
                      'source_directory': 'nbs/', 'navigation_with_keys': True}
