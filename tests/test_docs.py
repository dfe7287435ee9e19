"""The docs site, checked in a real browser.

Builds the site (`tools/build_docs.py site`, as `make docs` does, without rewriting README.md), serves
`_site/` on localhost and drives headless Chromium through the DevTools protocol: every page renders
(title and body), shows no nbdev directive, every image on it loads, and every internal link answers
200. Screenshots go to `_site/_screenshots/`. Chromium is installed by `.ci/run`, not by this test: under CI
(`CI` set) a missing browser fails the test; elsewhere it is skipped with the reason.
"""
import base64, functools, http.server, json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time
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
    want |= {'api.html'} | ({'model_card.html'} if (ROOT/'lungseg'/'MODEL_CARD.md').exists() else set())
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
        self.ws, self.i = websocket.create_connection(ws_url, timeout=60, suppress_origin=True), 0
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
