"""The docs site, checked in a real browser.

Builds the site (`tools/build_docs.py site`, as `make docs` does, without rewriting README.md), serves
`_site/` on localhost and drives headless Chromium through the DevTools protocol: every page renders
(title and body), shows no nbdev directive, every image on it loads, and every internal link answers
200. The "Try it" page segments every sample image, and the reader's own files, as `lungseg.pipeline.segment` does,
outlines the heart as `run_pipeline(..., heart=True)` does and measures the CTR as `lungseg.measure.measure` does:
it finds the same exposed field, turns a sideways film upright and turns away an image that is not an X-ray as Python
does; bad files get a clear message. Screenshots go to `_site/_screenshots/`. Chromium is installed by `.ci/run`,
not by this test: under CI (`CI` set) a missing browser fails the test; elsewhere it is skipped with the reason.
"""
import base64, functools, inspect, http.server, json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.parse, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT/'_site'
BROWSERS = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome')
CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
                '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--window-size=1280,900']
# an nbdev/quarto directive left at the start of a line of visible text
RE_DIRECTIVE = re.compile(r'^\s*#\|\s*(export|exports|exporti|hide|default_exp|eval|echo|output|include|code-fold'
                          r'|exec_doc|slow|notest)\b', re.M)


def find_browser():
    for b in BROWSERS:
        if (p := shutil.which(b)): return p
    return None


@pytest.fixture(scope='module')
def site():
    global NBS  # the notebooks as the build saw them (others may appear while the tests run)
    NBS = [p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.'))]
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), 'site'], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f'docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    assert (SITE/'index.html').exists()
    return SITE


def pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.glob('*.html') if p.name not in ('genindex.html', 'search.html'))


def test_site_pages(site):
    "Expected pages exist: one per notebook (index = home), API reference, model card when present"
    got = set(pages(site))
    want = {re.sub(r'^\d+[a-z]?_', '', p.stem) + '.html' for p in NBS}
    want |= {'api.html', 'try.html'} | ({'model_card.html'} if (ROOT/'lungseg'/'MODEL_CARD.md').exists() else set())
    assert want <= got, f'missing pages: {want - got}'
    api = (site/'api.html').read_text()
    assert 'manifest' in api and 'find_pairs' in api, 'API reference lacks the documented functions'


@pytest.fixture(scope='module')
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    httpd.shutdown()


class CDP:
    "The least of the Chrome DevTools protocol: one page target over a websocket"
    def __init__(self, ws_url):
        import websocket
        self.ws, self.i = websocket.create_connection(ws_url, timeout=180, suppress_origin=True), 0
    def send(self, method, **params):
        self.i += 1; i = self.i
        self.ws.send(json.dumps(dict(id=i, method=method, params=params)))
        while True:
            m = json.loads(self.ws.recv())
            if m.get('id') == i:
                if 'error' in m: raise RuntimeError(f'{method}: {m["error"]}')
                return m['result']
    def wait_event(self, name, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            m = json.loads(self.ws.recv())
            if m.get('method') == name: return m
        raise TimeoutError(name)
    def eval(self, js):
        r = self.send('Runtime.evaluate', expression=js, returnByValue=True, awaitPromise=True)
        return r['result'].get('value')


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    pytest.importorskip('websocket', reason='websocket-client (dev extra) needed to drive Chromium')
    exe = find_browser()
    if not exe:
        why = 'no headless Chromium on this machine (.ci/run installs Debian\'s chromium; locally: apt-get install chromium)'
        if os.environ.get('CI'): pytest.fail(why)
        pytest.skip(why)
    prof = tmp_path_factory.mktemp('chromium-profile')
    proc = subprocess.Popen([exe, *CHROME_FLAGS, f'--user-data-dir={prof}', '--remote-debugging-port=0', 'about:blank'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file, end = prof/'DevToolsActivePort', time.time() + 60
        while not (port_file.exists() and port_file.read_text().strip()) and time.time() < end: time.sleep(0.2)
        if not port_file.exists(): pytest.skip(f'{exe} did not start in headless mode')
        port = port_file.read_text().split()[0]
        targets = json.load(urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list'))
        page = next(t for t in targets if t['type'] == 'page')
        cdp = CDP(page['webSocketDebuggerUrl'])
        cdp.send('Page.enable')
        cdp.send('Emulation.setDeviceMetricsOverride', width=1280, height=900, deviceScaleFactor=1, mobile=False)
        yield cdp
        cdp.ws.close()
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()


PAGE_JS = r'''(async () => {
  await document.fonts.ready;
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const main = document.querySelector('main') || document.body;
  return {title: document.title, h1: (document.querySelector('h1') || {}).innerText || '',
          text: main.innerText, bodyText: document.body.innerText.length,
          imgs: imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth})),
          links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
          nav: Array.from(document.querySelectorAll('nav.bd-links a[href]')).length,
          height: document.documentElement.scrollHeight};
})()'''


def _status(url):
    try: return urllib.request.urlopen(urllib.request.Request(url, method='GET'), timeout=30).status
    except urllib.error.HTTPError as e: return e.code


def test_pages_in_browser(site, server, browser):
    shots = site/'_screenshots'; shots.mkdir(exist_ok=True)
    checked, problems = set(), []
    for pg in pages(site):
        browser.send('Page.navigate', url=server + pg)
        browser.wait_event('Page.loadEventFired')
        info = browser.eval(PAGE_JS)
        where = f'{pg}:'
        if not info['title'].strip() or not info['h1'].strip(): problems.append(f'{where} no title/heading')
        if len(info['text'].strip()) < 50: problems.append(f'{where} empty body')
        if (m := RE_DIRECTIVE.search(info['text'])): problems.append(f'{where} nbdev directive visible: {m.group(0)!r}')
        if info['nav'] < 3: problems.append(f'{where} no navigation to the other pages')
        for im in info['imgs']:
            if im['w'] <= 0: problems.append(f'{where} image does not load: {im["src"][:120]}')
        for href in info['links']:
            u = urllib.parse.urldefrag(href).url
            if not u.startswith(server) or u in checked: continue
            checked.add(u)
            if (st := _status(u)) != 200: problems.append(f'{where} broken link {u[len(server):]} ({st})')
        # screenshot: the page, at most 5000 px of it
        h = min(int(info['height']), 5000)
        browser.send('Emulation.setDeviceMetricsOverride', width=1280, height=h, deviceScaleFactor=1, mobile=False)
        png = browser.send('Page.captureScreenshot', format='png')['data']
        browser.send('Emulation.setDeviceMetricsOverride', width=1280, height=900, deviceScaleFactor=1, mobile=False)
        (shots/(Path(pg).stem + '.png')).write_bytes(base64.b64decode(png))
    assert not problems, '\n'.join(problems)


# ---------------------------------------------------------------- the "Try it" page (docs/try/)
TRY_DICE, TRY_SHARE, TRY_QC = 0.995, 0.005, 0.005  # the page against lungseg.pipeline.segment
# the heart and the CTR against run_pipeline(heart=True) and measure: the heart map, not post-processed, differs from
# onnxruntime's by a pixel here and there (the CTR by up to 1 px of a width); measured on the page's own masks, it is exact
TRY_HEART_DICE, TRY_CTR = 0.99, 0.01
TRY_JS = r'''(() => {
  const s = document.getElementById('lungseg-status'), m = document.getElementById('lungseg-mask');
  const h = document.getElementById('lungseg-heart');
  return {state: s ? s.dataset.state : null, text: s ? s.textContent : null, mask: m ? m.src : null,
          heart: h ? h.src : null, result: window.lungsegResult || null};
})()'''


def full_shot(browser, path):
    "A screenshot of the whole page (at most 5000 px of it) to `path`"
    h = min(int(browser.eval('document.documentElement.scrollHeight')), 5000)
    browser.send('Emulation.setDeviceMetricsOverride', width=1280, height=h, deviceScaleFactor=1, mobile=False)
    Path(path).write_bytes(base64.b64decode(browser.send('Page.captureScreenshot', format='png')['data']))
    browser.send('Emulation.setDeviceMetricsOverride', width=1280, height=900, deviceScaleFactor=1, mobile=False)


def try_wait(browser, what, timeout=180):
    "The Try-it page's state once its run has ended (`done`, `rejected` or `error`)"
    end = time.time() + timeout
    while time.time() < end:
        r = browser.eval(TRY_JS)
        if r['state'] in ('done', 'rejected', 'error'): return r
        time.sleep(0.25)
    raise TimeoutError(f'{what}: the Try-it page did not finish in {timeout} s (status: {r["text"]!r})')


def try_url(browser, url):
    browser.send('Page.navigate', url=url)
    browser.wait_event('Page.loadEventFired')
    return try_wait(browser, url)


def try_file(browser, server, path):
    "Give file `path` to the page's file input, as a reader choosing it does"
    browser.send('Page.navigate', url=server + 'try.html'); browser.wait_event('Page.loadEventFired')
    browser.eval("document.getElementById('lungseg-status').dataset.state = 'test'")
    root = browser.send('DOM.getDocument')['root']['nodeId']
    node = browser.send('DOM.querySelector', nodeId=root, selector='#lungseg-file')['nodeId']
    browser.send('DOM.setFileInputFiles', files=[str(path)], nodeId=node)
    return try_wait(browser, Path(path).name)


def mask_of(data_url):
    "The page's mask (bool) from its PNG data URL"
    import io
    import numpy as np
    from PIL import Image
    head, _, b64 = data_url.partition(',')
    assert head == 'data:image/png;base64', f'the mask is not a PNG data URL: {head[:60]}'
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert('L')) > 127


def compare_try(name, r, src):
    "Problems of the page's result `r` against lungseg's own pipeline on image file `src`, and the differences"
    from lungseg.pipeline import load_image, load_net, run_pipeline, segment, settings_of
    from lungseg.inputcheck import turn
    from lungseg.masks import lung_stats, lr_labels
    from lungseg.measure import measure, ctr, ctr_lines
    net, meta = load_net()
    ref = run_pipeline([load_image(src)], net, settings_of(meta, heart=True))[0]
    field = list(ref.field) if ref.field else None
    if r['result'] and r['result'].get('field') != field:
        return [f"{name}: field {r['result'].get('field')}, Python {field}"], None
    if ref.rejected:
        if r['state'] == 'rejected' and r['result']['rejected'] == ref.rejected: return [], None
        return [f'{name}: Python turns it away ({ref.rejected}); the page: {r["state"]}, {r["text"]!r}'], None
    if r['state'] != 'done': return [f'{name}: the page says {r["text"]!r}'], None
    got, want = mask_of(r['mask']), segment(src)
    if got.shape != want.shape: return [f'{name}: mask {got.shape[::-1]} px, the image is {want.shape[::-1]}'], None
    st = lung_stats(turn(want, ref.rotation))   # right and left told apart on the upright mask, as in `lungseg predict`
    dice = 2*(got & want).sum()/max(1, got.sum() + want.sum())
    out = [] if dice >= TRY_DICE else [f'{name}: Dice {dice:.4f} with segment() < {TRY_DICE}']
    if (r['result']['rotation'], r['result']['inverted']) != (ref.rotation, ref.inverted):
        out.append(f"{name}: turned {r['result']['rotation']}°, inverted {r['result']['inverted']}; "
                   f"Python: {ref.rotation}°, {ref.inverted}")
    for k in ('lung_fraction', 'right_lung_fraction', 'left_lung_fraction'):
        if abs(r['result'][k] - st[k]) > TRY_SHARE: out.append(f'{name}: {k} {r["result"][k]:.4f} vs {st[k]:.4f} in Python')
    if abs(r['result']['qc_score'] - ref.qc_score) > TRY_QC: out.append(f'{name}: QC score {r["result"]["qc_score"]:.4f} vs {ref.qc_score:.4f}')
    thr = meta['pipeline']['qc']['threshold']
    if r['result']['qc_flag'] != ref.qc_flag and abs(ref.qc_score - thr) > TRY_QC: out.append(f'{name}: QC flag {r["result"]["qc_flag"]} vs {ref.qc_flag}')
    # the heart (the shipped heart model on the same working copy) and the CTR (lungseg.measure.measure)
    hgot = mask_of(r['heart'])
    hdice = 2*(hgot & ref.heart).sum()/max(1, hgot.sum() + ref.heart.sum())
    if hdice < TRY_HEART_DICE: out.append(f'{name}: heart Dice {hdice:.4f} with run_pipeline(heart=True) < {TRY_HEART_DICE}')
    if abs(r['result']['heart_fraction'] - ref.heart.mean()) > TRY_SHARE:
        out.append(f"{name}: heart share {r['result']['heart_fraction']:.4f} vs {ref.heart.mean():.4f} in Python")
    c = measure(ref)['ctr']
    if (c is None) != (r['result']['ctr'] is None) or c is not None and abs(r['result']['ctr'] - c) > TRY_CTR:
        out.append(f"{name}: CTR {r['result']['ctr']} vs {c} in Python (within {TRY_CTR})")
    lab, up = lr_labels(turn(got, ref.rotation)), turn(hgot, ref.rotation)   # lungseg.measure on the page's own masks
    if r['result']['ctr'] != ctr(lab, up): out.append(f"{name}: CTR {r['result']['ctr']}, measure's of its masks {ctr(lab, up)}")
    if (lines := {k: v and list(v) for k, v in ctr_lines(lab, up).items()}) != r['result']['ctr_lines']:
        out.append(f"{name}: CTR lines {r['result']['ctr_lines']}, ctr_lines of its masks {lines}")
    return out, dict(dice=float(dice), share=abs(r['result']['lung_fraction'] - st['lung_fraction']), qc=abs(r['result']['qc_score'] - ref.qc_score),
                     heart_dice=float(hdice), ctr=None if c is None or r['result']['ctr'] is None else abs(r['result']['ctr'] - c))


def test_try_page_matches_python(site, server, browser, tmp_path, capsys):
    "The Try-it page on every sample image (and a large PNG, an RGB JPEG, a 16-bit PNG, three DICOMs) agrees with `segment`"
    import numpy as np
    from PIL import Image
    from lungseg.data import sample_path
    shots, problems, times, diffs = site/'_screenshots', [], [], []
    shots.mkdir(exist_ok=True)
    samples = sorted((sample_path()/'images').glob('*.png'))
    assert samples and sorted(p.name for p in (site/'try'/'samples').glob('*.png')) == [p.name for p in samples]
    from lungseg.data import pkg_path   # the page's models and the CTR's definition: the package's own files
    shipped = [pkg_path()/'weights'/f'{m}.{x}' for m in ('lungseg', 'heart', 'input_check') for x in ('onnx', 'json')]
    for f in [*shipped, pkg_path()/'measure.json']:
        assert (site/'try'/f.name).read_bytes() == f.read_bytes(), f'the site carries another {f.name} than lungseg'
    for f in samples:
        r = try_url(browser, f'{server}try.html?image=try/samples/{f.name}')
        p, d = compare_try(f.name, r, f); problems += p; diffs += [d] if d else []
        if r['result']: times.append(r['result'])
    full_shot(browser, shots/'try_sample.png')
    # the reader's own files, given to the file input: larger than 1024 px (reduced first), colour JPEG, 16-bit PNG
    a = np.asarray(Image.open(samples[0]))
    big = tmp_path/'big.png'; Image.fromarray(a).resize((1536, 1300), Image.BICUBIC).save(big)
    jpg = tmp_path/'colour.jpg'; Image.fromarray(np.stack([a, a*0.9, a*0.8], -1).astype(np.uint8)).resize((700, 600)).save(jpg, quality=92)
    deep = tmp_path/'deep.png'; Image.fromarray((a.astype(np.uint16)*100 + 3000)).save(deep)
    assert Image.open(deep).mode.startswith('I;16')
    from pydicom.uid import JPEGBaseline8Bit
    from lungseg.testing import write_dicom
    big_dcm = tmp_path/'big.dcm'   # 2300 x 2100: block-averaged by 2 first
    write_dicom(np.asarray(Image.fromarray(a).resize((2100, 2300), Image.BICUBIC)), big_dcm, bits=12, window=(1800, 3000))
    mono1 = tmp_path/'mono1.dcm'; write_dicom(a, mono1, bits=16, mono1=True, slope=2., intercept=-1024.)
    jdcm = tmp_path/'jpeg.dcm'; write_dicom(a, jdcm, syntax=JPEGBaseline8Bit)
    for f in (big, jpg, deep, big_dcm, mono1, jdcm):
        r = try_file(browser, server, f)
        p, d = compare_try(f.name, r, f); problems += p; diffs += [d] if d else []
        if r['result']: times.append(r['result'])
    assert not problems, '\n'.join(problems)
    tot, net = [t['seconds']['total'] for t in times[:len(samples)]], [t['seconds']['network'] for t in times[:len(samples)]]
    summary = dict(images=len(tot), threads=times[0]['threads'], cpus=os.cpu_count(), total_mean=float(np.mean(tot)),
                   total_max=float(np.max(tot)), network_mean=float(np.mean(net)), load_mean=float(np.mean([t['load_seconds'] for t in times])),
                   big_total=times[len(samples)]['seconds']['total'], dice_min=min(d['dice'] for d in diffs),
                   share_diff_max=max(d['share'] for d in diffs), qc_diff_max=max(d['qc'] for d in diffs),
                   heart_dice_min=min(d['heart_dice'] for d in diffs), ctrs=sum(d['ctr'] is not None for d in diffs),
                   ctr_diff_max=max(d['ctr'] for d in diffs if d['ctr'] is not None))
    (shots/'try_timing.json').write_text(json.dumps(summary, indent=1))
    with capsys.disabled():
        print(f"\nTry-it page, headless Chromium, {summary['threads']} WebAssembly thread(s), {summary['cpus']} CPUs: "
              f"{summary['total_mean']:.2f} s per 256 px sample image (max {summary['total_max']:.2f}; network {summary['network_mean']:.2f}), "
              f"{summary['big_total']:.2f} s for a 1536 x 1300 PNG; model load {summary['load_mean']:.2f} s per page visit. "
              f"Against segment(): Dice >= {summary['dice_min']:.4f}, lung share within {summary['share_diff_max']:.4f}, "
              f"QC score within {summary['qc_diff_max']:.4f}; heart Dice >= {summary['heart_dice_min']:.4f}, "
              f"CTR within {summary['ctr_diff_max']:.4f} on {summary['ctrs']} images")


def test_try_page_frames_turns_and_rejects(site, server, browser, tmp_path):
    "The page frames a film with borders, turns sideways and upside-down films upright, turns away a picture: as Python"
    import numpy as np
    from PIL import Image
    from lungseg.data import sample_path
    a = np.asarray(Image.open(sorted((sample_path()/'images').glob('*.png'))[3]).resize((300, 240), Image.BILINEAR))
    yy, xx = np.mgrid[:300, :400]
    bordered = np.pad(np.pad(a, ((30, 12), (0, 0)), constant_values=235), ((0, 0), (40, 25)), constant_values=8)
    films = {'bordered.png': bordered,
             'sideways.png': np.rot90(a), 'upside_down_inverted.png': 255 - np.rot90(a, 2),
             'rings.png': (np.hypot(yy - 150, xx - 200) % 50 * 5).astype(np.uint8)}   # not an X-ray
    problems, got = [], {}
    for name, img in films.items():
        Image.fromarray(np.ascontiguousarray(img)).save(tmp_path/name)
        r = try_file(browser, server, tmp_path/name)
        got[name] = (r['state'], (r['result'] or {}).get('rotation'), (r['result'] or {}).get('inverted'))
        problems += compare_try(name, r, tmp_path/name)[0]
        if name in ('bordered.png', 'sideways.png'): full_shot(browser, site/'_screenshots'/f'try_{name[:-4]}.png')
        if name == 'bordered.png': assert r['result']['field'], 'the page finds no field in a film with borders'
    full_shot(browser, site/'_screenshots'/'try_rejected.png')
    assert not problems, '\n'.join(problems)
    assert [g[0] for g in got.values()] == ['done', 'done', 'done', 'rejected'], got
    assert got['sideways.png'][1] == 270 and got['upside_down_inverted.png'][1:] == (180, True), got


def test_try_page_bad_input(site, server, browser, tmp_path):
    "A non-image, a damaged PNG, a huge one and a DICOM compressed as JPEG-LS get a clear message"
    import struct, zlib
    txt = tmp_path/'notes.txt'; txt.write_text('not an X-ray\n' * 20)
    ihdr = struct.pack('>IIBBBBB', 30000, 30000, 8, 0, 0, 0, 0)
    huge = tmp_path/'huge.png'
    huge.write_bytes(b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + ihdr + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr)))
    bad = tmp_path/'damaged.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + struct.pack('>IIBBBBB', 64, 64, 8, 0, 0, 0, 0) + b'\0' * 60)
    import numpy as np
    from pydicom.uid import JPEGLSLossless
    from lungseg.testing import write_dicom
    jls = tmp_path/'jpegls.dcm'; write_dicom(np.full((64, 64), 100, np.uint8), jls, syntax=JPEGLSLossless)
    want = {txt: 'is not a PNG, JPEG or DICOM image', huge: 'megapixels', bad: 'cannot decode', jls: 'JPEG-LS pixel data is not read here'}
    problems = []
    for f, msg in want.items():
        r = try_file(browser, server, f)
        if r['state'] != 'error' or msg not in r['text']: problems.append(f'{f.name}: {r["state"]} {r["text"]!r}, expected {msg!r}')
    full_shot(browser, site/'_screenshots'/'try_error.png')
    r = try_url(browser, f'{server}try.html?image=try/samples.json')   # the same through ?image=
    if r['state'] != 'error' or 'is not a PNG, JPEG or DICOM image' not in r['text']: problems.append(f'?image=samples.json: {r["text"]!r}')
    r = try_url(browser, f'{server}try.html?image=https://example.org/x.png')
    if r['state'] != 'error' or 'this site only' not in r['text']: problems.append(f'?image= of another site: {r["text"]!r}')
    assert not problems, '\n'.join(problems)


def test_try_pipeline_exact(site, server, browser):
    "pipeline.js in the browser reproduces Pillow's resize, `upsample`, `postprocess`, `qc_score`, `lr_labels`, framing and the CTR"
    import numpy as np
    from PIL import Image
    from lungseg.pipeline import load_meta, postprocess, qc_score, upsample
    from lungseg.masks import lr_labels
    from lungseg.framing import field_box, EDGE
    from lungseg.augment import collimate
    from lungseg.measure import ctr_definition, ctr_lines, widths
    from lungseg.data import sample_path
    rng, enc = np.random.default_rng(25), lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()
    sizes = [(256, 256, 384, 384), (1300, 1536, 867, 1024), (384, 384, 300, 500), (384, 384, 2000, 1500), (17, 33, 5, 100)]
    imgs = [rng.integers(0, 256, s[:2], dtype=np.uint8) for s in sizes]
    pp = load_meta()['pipeline']['postprocess'] or {k: v.default for k, v in inspect.signature(postprocess).parameters.items()
                                                    if v.default is not v.empty}   # shipped, else the function's own
    blobs = [np.asarray(Image.fromarray(rng.integers(0, 256, (12, 10), dtype=np.uint8)).resize((200, 240), Image.BILINEAR)) > t
             for t in (120, 140, 160, 180)]
    prob = rng.random((384, 384), dtype=np.float32)
    prob[:5] = np.float32(0.5/255*np.arange(1, 385))   # halves: numpy rounds them to even
    x = np.asarray(Image.open(sorted((sample_path()/'images').glob('*.png'))[0]))   # films with borders, reduced or not
    films = [np.pad(x, ((20, 10), (0, 30))), np.pad(x, ((0, 0), (40, 40)), constant_values=255),
             np.asarray(Image.fromarray(np.pad(x, ((40, 40), (10, 60)), constant_values=250)).resize((1024, 867))),
             np.asarray(Image.fromarray(x).resize((1024, 700))), rng.integers(0, 256, (300, 411), dtype=np.uint8),
             collimate(x, x > 0, 0.1, 240, 'tblr')[0], collimate(x//3, x > 0, 0.08, 250, 'lr', seed=1)[0]]   # soft edges
    js = '''(async () => {
      const P = await import('%stry/pipeline.js'), dec = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
      const enc = a => { let s = ''; for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode(...a.subarray(i, i + 8192)); return btoa(s); };
      const sizes = %s, imgs = %s, blobs = %s, pp = %s, prob = new Float32Array(dec('%s').buffer), films = %s;
      return {resize: sizes.map(([h0, w0, h, w], i) => enc(P.resizeBilinear(dec(imgs[i]), h0, w0, h, w))),
              post: blobs.map(b => enc(P.postprocess(dec(b), 240, 200, pp))),
              lr: blobs.map(b => enc(P.lrLabels(dec(b), 240, 200))),
              ctr: blobs.map((b, i) => { const lab = P.lrLabels(dec(b), 240, 200), heart = dec(blobs[(i + 1) %% blobs.length]);
                                         return [P.ctrWidths(lab, heart, 240, 200, %s), P.ctrLines(lab, heart, 240, 200)]; }),
              up: enc(P.upsample(prob, 384, 300, 500)), qc: P.qcScore(prob, [0.2, 0.8], 0.5),
              field: films.map(([f, h, w]) => P.fieldBox(dec(f), h, w, 2 * h, 2 * w)), edge: P.EDGE};
    })()''' % (server, json.dumps(sizes), json.dumps([enc(a) for a in imgs]), json.dumps([enc(b.astype(np.uint8)) for b in blobs]),
               json.dumps(pp), enc(prob), json.dumps([[enc(f), *f.shape] for f in films]), json.dumps(ctr_definition()))
    browser.send('Page.navigate', url=server + 'try.html'); browser.wait_event('Page.loadEventFired')
    got, dec = browser.eval(js), lambda s, shape: np.frombuffer(base64.b64decode(s), np.uint8).reshape(shape)
    assert got, 'pipeline.js could not be run in the page'
    problems = []
    for (h0, w0, h, w), a, r in zip(sizes, imgs, got['resize']):
        want = np.asarray(Image.fromarray(a).resize((w, h), Image.BILINEAR))
        if (n := (dec(r, (h, w)) != want).sum()): problems.append(f'resize {w0}x{h0} -> {w}x{h}: {n} pixels differ from Pillow')
    for i, (b, r, lr) in enumerate(zip(blobs, got['post'], got['lr'])):
        want = postprocess(b, **pp)
        assert (want != b).sum() > 50, 'the test blobs should need post-processing'
        if (n := (dec(r, b.shape) != want).sum()): problems.append(f'postprocess, blob {i}: {n} pixels differ')
        if (n := (dec(lr, b.shape) != lr_labels(b)).sum()): problems.append(f'lr_labels, blob {i}: {n} pixels differ')
        heart = blobs[(i + 1) % len(blobs)]   # a blob as the heart: the widths and lines of lungseg.measure, exactly
        want = [list(widths(lr_labels(b), heart)), {k: list(v) for k, v in ctr_lines(lr_labels(b), heart).items()}]
        if got['ctr'][i] != want: problems.append(f"CTR widths and lines, blob {i}: {got['ctr'][i]} vs {want}")
    if (n := (dec(got['up'], (300, 500)) != upsample(prob, (300, 500))).sum()): problems.append(f'upsample: {n} pixels differ')
    if got['qc'] != qc_score(prob): problems.append(f"qc_score: {got['qc']} vs {qc_score(prob)}")
    for f, box in zip(films, got['field']):
        want = field_box(f, (2*f.shape[0], 2*f.shape[1]))
        if box != (list(want) if want else None): problems.append(f'field_box of a {f.shape} film: {box} vs {want}')
    assert sum(b is not None for b in got['field']) >= 3, 'the test films should have fields'
    if got['edge'] != EDGE: problems.append(f"the frame's soft edge: pipeline.js EDGE {got['edge']}, lungseg {EDGE}")
    assert not problems, '\n'.join(problems)
