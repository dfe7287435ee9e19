"""Build lungseg's docs without Quarto: nbdev's doc processors + Sphinx/myst-nb, from stored outputs.

    python tools/build_docs.py readme   # README.md from nbs/index.ipynb
    python tools/build_docs.py site     # static site in _site/ (sources written to _proc/docs/)

No notebook cell is executed: pages show the outputs stored in the notebooks. nbdev's doc processors
are used except `exec_show_docs` (which would run the exported cells and every cell with an import);
`show_doc` entries are rendered instead from the installed `lungseg` modules, which are only imported.
"""
from __future__ import annotations
import re, shutil, sys, warnings, yaml
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC, SITE, CONF = ROOT/'nbs', ROOT/'_proc'/'docs', ROOT/'_site', ROOT/'docs'
_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
HIDE = {'hide', 'export', 'exporti', 'default_exp'}  # nbdev directives whose cells never show


def notebooks():
    "All `nbs/*.ipynb`, index first, then in file-name order"
    nbs = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(nbs, key=lambda p: p.stem != 'index')


def page_name(nb: Path) -> str:
    "Page name nbdev would use: `00_data.ipynb` -> `data` (so nbdev's doc links `data.html#...` match)"
    return re.sub(r'^\d+[a-z]?_', '', nb.stem)


def directives(src: str):
    "The leading `#|` directives of a cell, and its source without them"
    d, lines = {}, src.splitlines()
    i = 0
    while i < len(lines) and (lines[i].strip() == '' or _re_dir.match(lines[i])):
        if (m := _re_dir.match(lines[i])): d[m.group(1)] = m.group(2)
        i += 1
    # directives may also follow blank lines or comments; strip any `#|` line anywhere
    body = '\n'.join(l for l in lines[i:] if not _re_dir.match(l))
    return d, body.strip('\n')


# ---------------------------------------------------------------- README
def readme():
    "README.md from nbs/index.ipynb: hidden / exported cells dropped, directives stripped, stored outputs kept"
    import nbformat
    from nbconvert import MarkdownExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    nb = nbformat.read(NBS/'index.ipynb', as_version=4)
    cells = []
    for c in nb.cells:
        d, body = directives(c.source)
        if d.keys() & HIDE or d.get('include') == 'false': continue
        if c.cell_type == 'code':
            if d.get('echo') == 'false': c.metadata.setdefault('tags', []).append('remove_input')
            if d.get('output') == 'false': c.outputs = []
        c.source = body
        cells.append(c)
    nb.cells = cells
    exp = MarkdownExporter()
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}), enabled=True)
    md, res = exp.from_notebook_node(nb, resources={'output_files_dir': 'README_files'})
    shutil.rmtree(ROOT/'README_files', ignore_errors=True)
    for fn, data in res.get('outputs', {}).items():
        if fn in md: (ROOT/fn).parent.mkdir(exist_ok=True); (ROOT/fn).write_bytes(data)  # only the figures the README shows
    (ROOT/'README.md').write_text(md.rstrip('\n') + '\n')
    print('wrote README.md')


# ---------------------------------------------------------------- site
def _fm_cell(fm: dict):
    "Title and description (nbdev frontmatter) back as a markdown heading"
    md = f"# {fm.get('title', 'Untitled')}\n"
    if fm.get('description'): md += f"\n> {fm['description']}\n"
    return md


def _anchor(heading: str) -> str: return heading.lstrip('#').strip().strip('`').lower()

def _html_link(m, pages):
    "nbdev doc link [`name`](doc_url/page.html#name) -> a plain HTML link (its anchor is in a cell output)"
    text, page, anchor = m.group(1), m.group(2), m.group(3) or ''
    if page not in pages: return m.group(0)
    t = re.sub(r'`([^`]+)`', lambda c: f'<code class="docutils literal notranslate"><span class="pre">{c.group(1)}</span></code>', text)
    return f'<a class="reference internal" href="{page}.html{anchor}">{t}</a>'

def _fix_md(s: str, doc_url: str, pages: set) -> str:
    "Quarto-only markdown -> MyST: nbdev doc links made relative, `{target=...}` attributes, callouts"
    def rel(m):
        page, anchor = m.group(1), m.group(2) or ''
        return f'({page}.ipynb{anchor})' if page in pages else m.group(0)
    if doc_url: s = re.sub(r'\[([^\]]+)\]\(' + re.escape(doc_url.rstrip('/') + '/') + r'([\w-]+)\.html(#[\w.-]+)?\)',
                           lambda m: _html_link(m, pages), s)
    s = re.sub(r'\((?!https?:)([\w-]+)\.html(#[\w.-]+)?\)', rel, s)  # quarto-style links between pages
    s = re.sub(r'\)\{target="_blank"[^}]*\}', '){.sd-src}', s)
    s = re.sub(r'^\s*---\s*\n', '', s)  # show_doc's leading rule: docutils allows no transition here
    s = re.sub(r'^:::\s*\{\.callout-(\w+)[^}]*\}', r':::{\1}', s, flags=re.M)
    return s


_re_sd = re.compile(r'^show_doc\(.*\)\s*$', re.M)

def render_show_docs(exp):
    "Processor replacing nbdev's `exec_show_docs`: renders `show_doc(...)` from the *installed* library, runs no cell"
    import importlib
    from nbdev.process import Processor
    from nbdev.showdoc import show_doc
    from nbdev.config import get_config
    class _render(Processor):
        def begin(self):
            self.ns = {}
            if exp:
                mod = f"{get_config().get('lib_name', 'lungseg').replace('-', '_')}.{exp}"
                try: self.ns.update(vars(importlib.import_module(mod)))
                except Exception as e: warnings.warn(f'docs: cannot import {mod} ({e}): its show_doc entries are left out')
            self.ns['show_doc'] = show_doc
        def __call__(self, cell):
            if cell.cell_type != 'code' or not _re_sd.search(cell.source or ''): return
            outs = []
            for call in _re_sd.findall(cell.source):
                try:
                    sd = eval(call, dict(self.ns))
                    md = sd._repr_markdown_()
                    # an anchor where nbdev's doc links (`page.html#name`) point
                    md = re.sub(r'^(#+ .*)$', lambda m: f'<a id="{_anchor(m.group(1))}"></a>\n\n' + m.group(1), md, count=1, flags=re.M)
                except Exception as e: warnings.warn(f'docs: {call.strip()} failed: {e}'); continue
                outs.append(dict(output_type='display_data', metadata={}, data={'text/markdown': md}))
            cell.outputs = outs
    return _render


def process_nb(nb_path: Path, doc_url: str, pages: set):
    "One notebook through nbdev's doc processors, then quarto cell options mapped to myst-nb tags"
    from fastcore.nbio import read_nb
    from nbdev.processors import FilterDefaults, exec_show_docs, _default_exp
    class Procs(FilterDefaults):  # nbdev's doc processors, but no cell of the notebook is executed
        def base_procs(self):
            return [render_show_docs(exp) if p is exec_show_docs else p for p in super().base_procs()]
    nb = read_nb(nb_path)
    exp = _default_exp(nb)
    Procs()(nb)
    # nbdev inserts the show_doc cells of one exported cell in reverse order: put them in source order
    i, cs = 0, nb.cells
    while i < len(cs):
        j = i
        while j < len(cs) and getattr(cs[j], 'has_sd', False): j += 1
        if j - i > 1: cs[i:j] = cs[i:j][::-1]
        i = max(j, i + 1)
    fm = dict(getattr(nb, 'frontmatter_', {}) or {})
    cells = []
    for c in nb.cells:
        if 'source' not in c: continue  # removed by nbdev (hide_, rm_export ...)
        src = c.source if isinstance(c.source, str) else ''.join(c.source)
        if c.cell_type == 'raw':
            if src.startswith('---'):  # frontmatter inserted by nbdev
                fm = {**(yaml.safe_load(src.strip().strip('-')) or {}), **fm}
                cells.insert(0, dict(cell_type='markdown', metadata={}, source=_fm_cell(fm)))
            continue
        d, body = directives(src)
        if d.keys() & HIDE or d.get('include') == 'false': continue
        tags = []
        if c.cell_type == 'code':
            if d.get('echo') == 'false': tags.append('remove-input')
            if d.get('output') == 'false': tags.append('remove-output')
            outs = []
            for o in c.get('outputs', []):
                o = dict(o)
                if 'data' in o:
                    o['data'] = dict(o['data'])
                    if 'text/markdown' in o['data']:
                        md = o['data']['text/markdown']
                        o['data']['text/markdown'] = _fix_md(''.join(md) if isinstance(md, list) else md, doc_url, pages)
                outs.append(o)
            if not body.strip() and not outs: continue
            cell = dict(cell_type='code', metadata=dict(tags=tags) if tags else {}, source=body,
                        outputs=outs, execution_count=None)
        else:
            if not body.strip() or body.strip().startswith('<!-- WARNING'): continue
            cell = dict(cell_type='markdown', metadata={}, source=_fix_md(body, doc_url, pages))
            if c.get('attachments'): cell['attachments'] = c['attachments']
        cells.append(cell)
    if not any(c['cell_type'] == 'markdown' and c['source'].lstrip().startswith('# ') for c in cells[:1]):
        cells.insert(0, dict(cell_type='markdown', metadata={}, source=f'# {fm.get("title", page_name(nb_path))}'))
    for i, c in enumerate(cells): c['id'] = f'cell-{i}'
    meta = {k: v for k, v in dict(nb.metadata).items() if k in ('kernelspec', 'language_info')}
    meta.setdefault('kernelspec', dict(name='python3', display_name='Python 3', language='python'))
    return dict(nbformat=4, nbformat_minor=5, metadata=meta, cells=cells)


def api_page(pages: dict) -> str:
    "API reference: every public name of every lungseg module, rendered by nbdev's `show_doc`"
    import importlib
    from nbdev.showdoc import show_doc
    from lungseg._modidx import d
    md = ['# API reference', '',
          'Every public function and class of the `lungseg` package, from its docstrings and docments '
          '(the same entries appear next to their code in the notebooks).', '']
    order = {p: i for i, p in enumerate(pages)}  # modules in the order of their notebooks
    def _page(mod): return Path(next(iter(d['syms'][mod].values()))[0].split('#')[0]).stem if d['syms'][mod] else None
    for mod in sorted(d['syms'], key=lambda m: (order.get(_page(m), 999), m)):
        try: m = importlib.import_module(mod)
        except Exception as e:
            warnings.warn(f'API page: cannot import {mod}: {e}'); continue
        names = [n for n in getattr(m, '__all__', []) if callable(getattr(m, n, None))]
        if not names: continue
        page = _page(mod)
        md += [f'## `{mod}`', '']
        if m.__doc__: md += [m.__doc__.split('\n\n')[0].replace('\n', ' '), '']
        if page in pages: md += [f'Explained in [{pages[page]}]({page}.ipynb).', '']
        for n in names:
            try: s = show_doc(getattr(m, n), name=n)._repr_markdown_()
            except Exception as e: warnings.warn(f'API page: show_doc({mod}.{n}): {e}'); continue
            s = s.replace('\n### ', '\n#### ')  # one level below the module heading
            md += [_fix_md(s, '', set(pages)), '']
    return '\n'.join(md)


def model_card(dest: Path) -> bool:
    "lungseg/MODEL_CARD.md (with the local images it links) if present"
    src = ROOT/'lungseg'/'MODEL_CARD.md'
    if not src.exists(): return False
    text = src.read_text()
    if not text.lstrip().startswith('# '): text = '# Model card\n\n' + text
    for rel in re.findall(r'!\[[^\]]*\]\(([^)\s]+)', text) + re.findall(r'<img[^>]+src="([^"]+)"', text):
        f = (src.parent/rel)
        if not re.match(r'\w+://', rel) and f.is_file():
            (dest/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy(f, dest/rel)
    (dest/'model_card.md').write_text(text)
    return True


def site(strict: bool = False):
    import nbformat
    from nbdev.config import get_config
    doc_url = str(get_config().get('doc_url', '') or '')
    if PROC.exists(): shutil.rmtree(PROC)
    PROC.mkdir(parents=True)
    nbs = notebooks()
    names = {page_name(p): p for p in nbs}
    docs, titles = [], {}
    for name, p in names.items():
        nb = process_nb(p, doc_url, set(names))
        titles[name] = nb['cells'][0]['source'].splitlines()[0].lstrip('# ').strip()
        nbformat.write(nbformat.from_dict(nb), PROC/f'{name}.ipynb')
        docs.append(name)
        print(f'processed {p.name} -> {name}')
    if 'index' not in docs: (PROC/'index.md').write_text('# lungseg\n'); docs.insert(0, 'index')
    (PROC/'api.md').write_text(api_page(titles)); docs.append('api')
    if model_card(PROC): docs.append('model_card')
    # the navigation: a hidden toctree in the home page
    toc = '```{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(['Home <self>'] + docs[1:]) + '\n```\n'
    if (PROC/'index.ipynb').exists():
        idx = nbformat.read(PROC/'index.ipynb', as_version=4)
        idx.cells.append(nbformat.v4.new_markdown_cell(toc))
        nbformat.write(idx, PROC/'index.ipynb')
    else: (PROC/'index.md').write_text((PROC/'index.md').read_text() + '\n' + toc)
    from sphinx.cmd.build import build_main
    if SITE.exists(): shutil.rmtree(SITE)
    # built under _proc/ (myst-nb writes its jupyter_execute/ next to the output folder), then copied
    html = PROC.parent/'html'
    if html.exists(): shutil.rmtree(html)
    args = ['-b', 'html', '-q', '-c', str(CONF), '-d', str(PROC.parent/'doctrees'), str(PROC), str(html)]
    if strict: args.insert(0, '-W')
    rc = build_main(args)
    if rc: sys.exit(rc)
    shutil.copytree(html, SITE)
    (SITE/'.nojekyll').touch()
    print(f'site built: {SITE}/index.html ({len(docs)} pages)')


if __name__ == '__main__':
    what = sys.argv[1:] or ['readme', 'site']
    for w in what:
        if w == 'readme': readme()
        elif w == 'site': site()
        else: sys.exit(f'unknown target {w!r}: use readme and/or site')
