"""Build lungseg's docs without Quarto: nbdev's own doc processors, then Sphinx + myst-nb on their output.

    python tools/build_docs.py readme   # README.md from nbs/index.ipynb (stored outputs)
    python tools/build_docs.py site     # _proc/ by nbdev.serve.proc_nbs, then the static site in _site/

`proc_nbs` runs nbdev's `FilterDefaults` processors, whose `exec_show_docs` executes the exported cells,
the `show_doc` cells and the import cells (imports live in import cells only) to render the API docs.
Every other cell keeps its stored outputs; myst-nb executes nothing.

The "Try it" page (docs/try/) segments a reader's X-ray in the browser. Its files go to `_site/try/`: the page's
scripts, the shipped model and its JSON, the sample images and onnxruntime-web's WebAssembly build, which
`npm pack` fetches from the npm registry at the version pinned in `ORT_WEB` (its integrity checked).
"""
from __future__ import annotations
import base64, hashlib, json, re, shutil, subprocess, sys, tarfile, tempfile
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC, SITE, CONF = ROOT/'nbs', ROOT/'_proc', ROOT/'_site', ROOT/'docs'
DOCS = PROC/'docs'  # the Sphinx sources: the processed notebooks made readable by myst-nb
HIDE = {'hide', 'export', 'exporti', 'default_exp'}  # nbdev directives whose cells never show
TRY = CONF/'try'  # the "Try it" page: its source (try.md), scripts and style
# onnxruntime-web, fetched from the npm registry at this version (integrity checked); only its WebAssembly build is served
ORT_WEB = ('onnxruntime-web', '1.30.0', 'sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ==')
ORT_FILES = ('ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm')


def page_name(nb) -> str:
    "Page name nbdev gives a notebook: `00_data.ipynb` -> `data` (so nbdev's doc links `data.html#...` match)"
    return re.sub(r'^\d+[a-z]?_', '', Path(nb).stem)


# ---------------------------------------------------------------- README
def readme():
    "README.md from nbs/index.ipynb: hidden / exported cells dropped, directives stripped, stored outputs kept"
    import nbformat
    from fastcore.nbio import read_nb, nb2str
    from nbconvert import MarkdownExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    nb, cells = read_nb(NBS/'index.ipynb'), []
    for c in nb.cells:
        d = c.directives
        if d.keys() & HIDE or d.get('include') == 'false': continue
        c.remove_directives()
        c.source = c.source.strip('\n')
        if c.cell_type == 'code':
            if d.get('echo') == 'false': c.metadata['tags'] = ['remove_input']
            if d.get('output') == 'false': c.outputs = []
        cells.append(c)
    nb.cells = cells
    exp = MarkdownExporter()
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}), enabled=True)
    md, res = exp.from_notebook_node(nbformat.reads(nb2str(nb), as_version=4), resources={'output_files_dir': 'README_files'})
    shutil.rmtree(ROOT/'README_files', ignore_errors=True)
    for fn, data in res.get('outputs', {}).items():
        if fn in md: (ROOT/fn).parent.mkdir(exist_ok=True); (ROOT/fn).write_bytes(data)  # only the figures shown
    (ROOT/'README.md').write_text(md.rstrip('\n') + '\n')
    print('wrote README.md')


# ---------------------------------------------------------------- nbdev's processing, one adjustment
def patch_nbdev():
    "Keep `show_doc` entries in source order; run no `#| slow` cell"
    import nbdev.processors as P, nbdev.serve
    class sd_order(P.Processor):
        "`add_show_docs` inserts the entries of one exported cell in reverse order: put them back"
        def begin(self):
            cs = self.nb.cells
            self.nb.cells = [c for k, g in groupby(cs, lambda c: bool(c.get('has_sd'))) for c in (list(g)[::-1] if k else g)]
    class exec_not_slow(P.exec_show_docs):
        "Run no `#| slow` cell (as nbdev-test skips them): they need the full data set"
        def __call__(self, cell):
            v = cell.directives_.get('slow')
            if v is not None and str(v[0] if isinstance(v, list) and v else v).lower() not in ('false', '0'): return
            return super().__call__(cell)
    class Procs(P.FilterDefaults):
        def base_procs(self):
            ps = super().base_procs(); i = ps.index(P.add_show_docs) + 1
            ps = ps[:i] + [sd_order] + ps[i:]
            return [exec_not_slow if p is P.exec_show_docs else p for p in ps]
    nbdev.serve.FilterDefaults = Procs


def fix_md(s: str, doc_url: str, pages) -> str:
    "Quarto-flavoured markdown -> MyST: nbdev doc links made relative, show_doc's attributes and leading rule"
    s = re.sub(re.escape(doc_url) + r'([\w-]+)\.html', lambda m: f'{m[1]}.html' if m[1] in pages else m[0], s)
    s = re.sub(r'\)\{target="_blank"[^}]*\}', '){.sd-src}', s)
    return re.sub(r'^\s*---\s*\n', '', s)  # docutils allows no transition at the start of an output


def to_myst(src: Path, doc_url: str, pages) -> tuple[str, list]:
    "A notebook from `_proc/` -> `_proc/docs/<page>.ipynb` for myst-nb; its title and its show_doc entries"
    from fastcore.nbio import read_nb, write_nb, mk_cell, nb_frontmatter
    nb, sds = read_nb(src), []
    fm = nb_frontmatter(nb)
    title = fm.get('title', page_name(src))
    cells = [mk_cell(f'# {title}' + (f"\n\n> {fm['description']}" if fm.get('description') else ''), 'markdown')]
    for c in nb.cells:
        d = c.directives
        if c.cell_type == 'raw' or d.get('include') == 'false' or c.source.startswith('<!-- WARNING'): continue
        c.remove_directives()
        if c.cell_type != 'code':
            c.source = fix_md(c.source, doc_url, pages); cells.append(c); continue
        c.metadata = {'tags': [t for k, t in (('echo', 'remove-input'), ('output', 'remove-output')) if d.get(k) == 'false']}
        for o in c.get('outputs', []):
            if 'text/markdown' not in o.get('data', {}): continue
            md = fix_md(o.data['text/markdown'], doc_url, pages)
            if c.source.startswith('show_doc('):  # an anchor where nbdev's doc links (`page.html#name`) point
                md = re.sub(r'^#+ (.*)$', lambda m: f'<a id="{m[1].strip("`").lower()}"></a>\n\n{m[0]}', md, count=1, flags=re.M)
                sds.append(md.replace('\n### ', '\n#### '))  # on the API page: one level below the page's title
            o.data['text/markdown'] = md
        cells.append(c)
    nb.cells, nb.metadata['kernelspec'] = cells, dict(name='python3', display_name='Python 3', language='python')
    write_nb(nb, DOCS/f'{page_name(src)}.ipynb')
    return title, sds


# ---------------------------------------------------------------- the "Try it" page
def ort_web(dest: Path):
    "onnxruntime-web's WebAssembly files into `dest`: `npm pack` of the pinned version (npm's cache is reused), integrity checked"
    name, ver, integrity = ORT_WEB
    npm = shutil.which('npm')
    if not npm: sys.exit(f'npm not found: the "Try it" page needs {name}@{ver} from the npm registry (Debian: apt-get install npm)')
    with tempfile.TemporaryDirectory() as t:
        r = subprocess.run([npm, 'pack', f'{name}@{ver}', '--pack-destination', t, '--silent', '--prefer-offline'],
                           capture_output=True, text=True)
        tgz = next(Path(t).glob('*.tgz'), None)
        if r.returncode or not tgz: sys.exit(f'npm pack {name}@{ver} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}')
        got = 'sha512-' + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
        if got != integrity: sys.exit(f'{tgz.name}: integrity {got} differs from the pinned {integrity}')
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tf:
            for f in ORT_FILES: (dest/f).write_bytes(tf.extractfile(f'package/dist/{f}').read())
    (dest/'README.txt').write_text(f'{name} {ver} (MIT licence, (c) Microsoft Corporation), from the npm registry: '
                                   f'https://www.npmjs.com/package/{name}/v/{ver}\n')


def try_source() -> str:
    "The page's MyST source, with the shipped model's settings and onnxruntime-web's version filled in"
    from lungseg.pipeline import load_meta, settings_of
    s = settings_of(load_meta())
    subs = {'SIZE': s['size'], 'THRESHOLD': s['threshold'], 'QC_THRESHOLD': (s['qc'] or {}).get('threshold'), 'ORT_VERSION': ORT_WEB[1]}
    return re.sub(r'\{\{(\w+)\}\}', lambda m: str(subs[m[1]]), (TRY/'try.md').read_text())


def try_files(site: Path):
    "What the page loads, in `site/try/`: its scripts, the shipped model and its JSON, the sample images, onnxruntime-web"
    from lungseg.pipeline import default_weights, meta_path
    from lungseg.data import sample_path
    d = site/'try'; shutil.rmtree(d, ignore_errors=True); d.mkdir()
    for f in [*TRY.glob('*.js'), *TRY.glob('*.css'), default_weights(), meta_path(default_weights())]: shutil.copy(f, d)
    (d/'samples').mkdir()
    imgs = sorted((sample_path()/'images').glob('*.png'))
    for f in imgs: shutil.copy(f, d/'samples')
    (d/'samples.json').write_text(json.dumps([f.name for f in imgs]))
    ort_web(d/'ort')


def site():
    from fastcore.nbio import read_nb, write_nb, mk_cell
    from nbdev.config import get_config
    from nbdev.serve import proc_nbs
    from sphinx.cmd.build import build_main
    patch_nbdev()
    proc_nbs(n_workers=0, force=True)  # in this process, one notebook at a time
    shutil.rmtree(DOCS, ignore_errors=True); DOCS.mkdir()
    nbs = sorted(PROC.glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.name))
    pages, doc_url, api = [page_name(p) for p in nbs], str(get_config().doc_url).rstrip('/') + '/', []
    for p, name in zip(nbs, pages):
        title, sds = to_myst(p, doc_url, [*pages, 'try'])  # links to the Try-it page made relative too
        if sds: api += [f'## {title}', '', f'Explained in [{title}]({name}.html).', '', *sds, '']
        print(f'processed {p.name} -> {name}')
    (DOCS/'api.md').write_text('# API reference\n\nEvery function and class the notebooks export, as documented '
                               "next to its code by nbdev's `show_doc`.\n\n" + '\n'.join(api)); pages.append('api')
    (DOCS/'try.md').write_text(try_source()); pages.insert(1, 'try')
    if (card := ROOT/'lungseg'/'MODEL_CARD.md').exists(): shutil.copy(card, DOCS/'model_card.md'); pages.append('model_card')
    # the navigation: a hidden toctree in the home page
    toc = '```{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(['Home <self>'] + [p for p in pages if p != 'index']) + '\n```\n'
    if 'index' not in pages: (DOCS/'index.md').write_text('# lungseg\n')
    if (idx := DOCS/'index.ipynb').exists(): nb = read_nb(idx); nb.cells.append(mk_cell(toc, 'markdown')); write_nb(nb, idx)
    else: (DOCS/'index.md').write_text((DOCS/'index.md').read_text() + '\n' + toc)
    # built under _proc/ (myst-nb writes its jupyter_execute/ next to the output folder), then copied
    html = PROC/'html'
    rc = build_main(['-b', 'html', '-q', '-E', '-c', str(CONF), '-d', str(PROC/'doctrees'), str(DOCS), str(html)])
    if rc: sys.exit(rc)
    shutil.rmtree(SITE, ignore_errors=True); shutil.copytree(html, SITE)
    try_files(SITE)
    (SITE/'.nojekyll').touch()
    print(f'site built: {SITE}/index.html ({len(pages)} pages)')


if __name__ == '__main__':
    for w in sys.argv[1:] or ['readme', 'site']:
        if w == 'readme': readme()
        elif w == 'site': site()
        else: sys.exit(f'unknown target {w!r}: use readme and/or site')
