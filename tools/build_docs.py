"""Build lungseg's docs without Quarto: nbdev's own processors, then Sphinx + myst-nb on their output.

    python tools/build_docs.py readme   # README.md from nbs/index.ipynb (stored outputs)
    python tools/build_docs.py site     # _proc/ by nbdev.serve.proc_nbs, then the static site in _site/

nbdev's `exec_show_docs` runs the exported, import and `show_doc` cells to render the API docs; every other cell keeps
its stored outputs. _site/try/ gets the "Try it" page and onnxruntime-web (`npm pack` of `ORT_WEB`, hash checked)."""
from __future__ import annotations
import base64, hashlib, json, re, shutil, subprocess, sys, tarfile, tempfile
from itertools import groupby
from pathlib import Path
import nbformat, nbdev.serve, nbdev.config, nbdev.processors as P
from fastcore.nbio import read_nb, write_nb, mk_cell, nb_frontmatter, nb2str
from nbdev.process import NBProcessor

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC, SITE, CONF = ROOT/'nbs', ROOT/'_proc', ROOT/'_site', ROOT/'docs'
DOCS, TRY = PROC/'docs', CONF/'try'  # the Sphinx sources (notebooks for myst-nb); the Try-it page's source
ORT_WEB = ('onnxruntime-web', '1.30.0',
           'sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ==')
ORT_FILES = ('ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm')

def page_name(nb) -> str:
    "Page name nbdev gives a notebook: `00_data.ipynb` -> `data` (so nbdev's doc links `data.html#...` match)"
    return re.sub(r'^\d+[a-z]?_', '', Path(nb).stem)

def shown(cell):
    "What a page shows of a cell: none of it (`include: false`), its output only (`echo: false`), or no output"
    d = cell.directives_
    if d.get('include') == 'false': del cell['source']
    elif cell.cell_type == 'code':
        tags = (('echo', 'remove-input'), ('output', 'remove-output'))
        cell.metadata = {'tags': [t for k, t in tags if d.get(k) == 'false']}

def readme():
    "README.md from nbs/index.ipynb by nbdev's processors: hidden and exported cells dropped, directives stripped"
    from nbconvert import MarkdownExporter
    from traitlets.config import Config
    nb = NBProcessor(nb=read_nb(NBS/'index.ipynb'), procs=[P.rm_export, shown], process=True).nb
    for c in nb.cells: c.source = c.source.strip('\n')
    tags = dict(enabled=True, remove_input_tags={'remove-input'}, remove_all_outputs_tags={'remove-output'})
    exp = MarkdownExporter(config=Config(TagRemovePreprocessor=tags))
    md, res = exp.from_notebook_node(nbformat.reads(nb2str(nb), as_version=4), {'output_files_dir': 'README_files'})
    shutil.rmtree(ROOT/'README_files', ignore_errors=True)
    for fn in (f for f in res.get('outputs', {}) if f in md):  # only the figures shown
        (ROOT/fn).parent.mkdir(exist_ok=True)
        (ROOT/fn).write_bytes(res['outputs'][fn])
    (ROOT/'README.md').write_text(md.rstrip('\n') + '\n')

def patch_nbdev():
    "nbdev's doc processors, with `show_doc` entries in source order and no `#| slow` cell run (as in nbdev-test)"
    add, run = P.add_show_docs.begin, P.exec_show_docs.__call__
    def add_in_order(self):  # `add_show_docs` inserts the entries of one exported cell in reverse order
        add(self)
        runs = groupby(self.nb.cells, lambda c: bool(c.get('has_sd')))
        self.nb.cells = [c for k, g in runs for c in (list(g)[::-1] if k else g)]
    def run_not_slow(self, cell):  # `#| slow` cells need the full data set
        if str(cell.directives_.get('slow', 'false')).lower() in ('false', '0'): return run(self, cell)
    P.add_show_docs.begin, P.exec_show_docs.__call__ = add_in_order, run_not_slow

def fix_md(s: str, doc_url: str, pages) -> str:
    "Quarto-flavoured markdown -> MyST: nbdev doc links made relative, show_doc's attributes and leading rule"
    s = re.sub(re.escape(doc_url) + r'([\w-]+)\.html', lambda m: f'{m[1]}.html' if m[1] in pages else m[0], s)
    s = re.sub(r'\)\{target="_blank"[^}]*\}', '){.sd-src}', s)
    return re.sub(r'^\s*---\s*\n', '', s)  # docutils allows no transition at the start of an output

def to_myst(src: Path, doc_url: str, pages) -> tuple[str, list]:
    "A notebook from `_proc/` -> `_proc/docs/<page>.ipynb` for myst-nb; its title and its show_doc entries"
    nb, sds = read_nb(src), []
    title = (fm := nb_frontmatter(nb)).get('title', page_name(src))
    nb.cells = [c for c in nb.cells if c.cell_type != 'raw' and not c.source.startswith('<!-- WARNING')]
    nb = NBProcessor(nb=nb, procs=[shown], process=True).nb
    for c in nb.cells:
        if c.cell_type != 'code': c.source = fix_md(c.source, doc_url, pages)
        for o in (o for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})):
            md = fix_md(o.data['text/markdown'], doc_url, pages)
            if c.source.startswith('show_doc('):  # an anchor where nbdev's doc links (`page.html#name`) point
                md = re.sub(r'(?m)^#+ (.*)$', lambda m: f'<a id="{m[1].strip("`").lower()}"></a>\n\n{m[0]}', md, 1)
                sds.append(md.replace('\n### ', '\n#### '))  # on the API page: one level below the page's title
            o.data['text/markdown'] = md
    head = mk_cell(f'# {title}' + (f"\n\n> {fm['description']}" if fm.get('description') else ''), 'markdown')
    nb.cells = [head, *nb.cells]
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    write_nb(nb, DOCS/f'{page_name(src)}.ipynb')
    return title, sds

def ort_web(dest: Path):
    "onnxruntime-web's WebAssembly files into `dest`: `npm pack` of the pinned version (from npm's cache if there)"
    name, ver, integrity = ORT_WEB
    if not (npm := shutil.which('npm')): sys.exit(f'npm not found: the "Try it" page needs {name}@{ver} from npm')
    with tempfile.TemporaryDirectory() as t:
        subprocess.run([npm, 'pack', f'{name}@{ver}', '--pack-destination', t, '--silent', '--prefer-offline'],
                       check=True, stdout=subprocess.DEVNULL)  # npm's errors go to stderr
        tgz = next(Path(t).glob('*.tgz'))
        got = 'sha512-' + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
        if got != integrity: sys.exit(f'{tgz.name}: integrity {got} differs from the pinned {integrity}')
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tf:
            for f in ORT_FILES: (dest/f).write_bytes(tf.extractfile(f'package/dist/{f}').read())
    (dest/'README.txt').write_text(f'{name} {ver} (MIT licence, (c) Microsoft Corporation), from the npm registry: '
                                   f'https://www.npmjs.com/package/{name}/v/{ver}\n')

def try_page(site: Path) -> str:
    "The Try-it page's files in `site/try/` (scripts, models and their JSON, samples, onnxruntime-web); its source"
    from lungseg.pipeline import default_weights, meta_path, load_meta, settings_of, heart_weights
    from lungseg.data import sample_path, pkg_path
    from lungseg.inputcheck import check_weights
    from lungseg.measure import MEASURE_FILE, ctr_definition
    shutil.rmtree(d := site/'try', ignore_errors=True)
    shutil.copytree(TRY, d, ignore=shutil.ignore_patterns('*.md'))
    for w in (default_weights(), check_weights(), heart_weights()):
        for f in (w, meta_path(w)): shutil.copy(f, d)
    shutil.copy(pkg_path()/MEASURE_FILE, d)   # the CTR's definition, read by the page as lungseg.measure reads it
    shutil.copytree(sample_path()/'images', d/'samples')
    (d/'samples.json').write_text(json.dumps(sorted(f.name for f in (d/'samples').glob('*.png'))))
    ort_web(d/'ort')
    s = settings_of(load_meta())  # the shipped model's settings and onnxruntime-web's version, filled into the page
    subs = dict(SIZE=s['size'], THRESHOLD=s['threshold'], QC_THRESHOLD=(s['qc'] or {}).get('threshold'),
                ORT_VERSION=ORT_WEB[1])
    hs, cd = settings_of(load_meta(heart_weights())), ctr_definition()
    subs |= dict(HEART_SIZE=hs['size'], HEART_THRESHOLD=hs['threshold'], CTR_THORAX=cd['thorax'],
                 CTR_CARDIAC=cd['cardiac'])
    return re.sub(r'\{\{(\w+)\}\}', lambda m: str(subs[m[1]]), (TRY/'try.md').read_text())

def site():
    from sphinx.cmd.build import build_main
    patch_nbdev()
    nbdev.serve.proc_nbs(n_workers=0, force=True)  # in this process, one notebook at a time
    shutil.rmtree(DOCS, ignore_errors=True)
    DOCS.mkdir()
    nbs = sorted(PROC.glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.name))
    pages, doc_url, api = [page_name(p) for p in nbs], str(nbdev.config.get_config().doc_url).rstrip('/') + '/', []
    for p, name in zip(nbs, pages):
        title, sds = to_myst(p, doc_url, [*pages, 'try'])  # links to the Try-it page made relative too
        if sds: api += [f'## {title}', '', f'Explained in [{title}]({name}.html).', '', *sds, '']
    (DOCS/'api.md').write_text('# API reference\n\nEvery function and class the notebooks export, as documented '
                               "next to its code by nbdev's `show_doc`.\n\n" + '\n'.join(api))
    (DOCS/'try.md').write_text(try_page(PROC))
    shutil.copy(ROOT/'lungseg'/'MODEL_CARD.md', DOCS/'model_card.md')
    pages = [pages[0], 'try', *pages[1:], 'api', 'model_card']
    toc = '```{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(['Home <self>', *pages[1:]]) + '\n```\n'
    nb = read_nb(DOCS/'index.ipynb')  # the navigation: a hidden toctree in the home page
    nb.cells.append(mk_cell(toc, 'markdown'))
    write_nb(nb, DOCS/'index.ipynb')
    html = PROC/'html'  # built in _proc/ (myst-nb writes its jupyter_execute/ beside the output folder), then copied
    if rc := build_main(['-b', 'html', '-q', '-E', '-c', str(CONF), '-d', str(PROC/'doctrees'), str(DOCS), str(html)]):
        sys.exit(rc)
    shutil.rmtree(SITE, ignore_errors=True)
    shutil.copytree(html, SITE)
    shutil.move(PROC/'try', SITE/'try')
    (SITE/'.nojekyll').touch()
    print(f'site built: {SITE}/index.html ({len(pages)} pages)')

if __name__ == '__main__':
    for w in sys.argv[1:] or ['readme', 'site']:
        dict(readme=readme, site=site).get(w, lambda: sys.exit(f'unknown target {w!r}: use readme and/or site'))()
