"""`lungseg pacs` against a real Orthanc (with its DICOMweb plugin) that the tests start on loopback and stop afterwards.

The stored SEG must reference its source and hold the mask `lungseg predict --dicom-seg` writes for the same file; a rerun
stores nothing; a run that stops as a crash would after its third store (LUNGSEG_STOP_AFTER=3) resumes without
duplicates; and each failure (server down, wrong URL, 401, 403, a certificate it cannot check, a missing study, an
instance that fails to decode or to store) is one line, a non-zero exit and no traceback.
`.ci/run` installs Orthanc (apt-get install orthanc orthanc-dicomweb) and sets LUNGSEG_REQUIRE_ORTHANC=1, so that there they
fail instead of skipping when it is missing; elsewhere, without it, they are skipped.
"""
import http.server, os, shutil, ssl, subprocess, sys, threading
from pathlib import Path
import numpy as np
import pydicom
import pytest
from lungseg.data import sample_path, read_gray
from lungseg.testing import write_study, broken_dicom
from loopback import orthanc_binary, orthanc_server, free_port, self_signed_cert

try: import dicomweb_client; MISSING = None if orthanc_binary() else 'Orthanc with its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)'
except ImportError: MISSING = "dicomweb-client is not installed (pip install 'lungseg[pacs]')"
if MISSING and os.environ.get('LUNGSEG_REQUIRE_ORTHANC') == '1': raise RuntimeError(f"LUNGSEG_REQUIRE_ORTHANC=1 (.ci/run) but {MISSING}")
if MISSING: pytest.skip(MISSING, allow_module_level=True)

BIN = Path(sys.executable).parent
IMGS = [read_gray(f) for f in sorted((sample_path()/'images').glob('*.png'))[:4]]
USERS = {'lungseg': 'pw-writer', 'reader': 'pw-reader'}
# The secured server: basic authentication; user 'reader' may not POST (403); no SEG is accepted (a store that fails).
LUA = """function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  return not (method == 'POST' and username == 'reader')
end
function ReceivedInstanceFilter(dicom, origin, info)
  return dicom.Modality ~= 'SEG'
end
"""


def lungseg(*args, env=None, **kw):
    e = {**os.environ, 'HOME': '/nonexistent', **(env or {})}   # no ~/.netrc of the machine
    for k in ('LUNGSEG_PACS_USER', 'LUNGSEG_PACS_PASSWORD', 'LUNGSEG_PACS_TOKEN', 'NETRC'):
        if k not in (env or {}): e.pop(k, None)
    return subprocess.run([str(BIN/'lungseg'), *map(str, args)], capture_output=True, text=True, env=e, **kw)


def client(url, auth=None):
    from dicomweb_client import DICOMwebClient
    import requests
    s = requests.Session(); s.auth = auth
    return DICOMwebClient(url, session=s)


def upload(url, fns, auth=None) -> str:
    "Store DICOM files `fns` (one study) on the server; their study UID"
    client(url, auth).store_instances([pydicom.dcmread(f) for f in fns])
    return pydicom.dcmread(fns[0]).StudyInstanceUID


def series(url, study, modality=None, auth=None) -> list:
    return client(url, auth).search_for_series(study, search_filters={'Modality': modality} if modality else None)


def uid(js, tag='0020000E'): return js[tag]['Value'][0]


def no_traceback(r): assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr


@pytest.fixture(scope='session')
def orthanc(tmp_path_factory):
    with orthanc_server(tmp_path_factory.mktemp('orthanc')) as url: yield url


@pytest.fixture(scope='session')
def secured(tmp_path_factory):
    with orthanc_server(tmp_path_factory.mktemp('orthanc-auth'), users=USERS, lua=LUA) as url: yield url


@pytest.fixture(scope='session')
def study(orthanc, tmp_path_factory):
    "A study with a DX, a CR and a CT series, and a DX instance that fails to decode: (study UID, {modality: file})"
    d = tmp_path_factory.mktemp('study')
    fns = write_study(d, IMGS[:3], ['DX', 'CR', 'CT'])
    st = pydicom.dcmread(fns[0]).StudyInstanceUID
    upload(orthanc, [*fns, broken_dicom(d/'broken.dcm', IMGS[3], st)])
    return st, dict(zip(['DX', 'CR', 'CT'], fns))


@pytest.fixture(scope='session')
def first_run(orthanc, study):
    "The first `lungseg pacs` run over the study, with overlays; the series before it"
    before = series(orthanc, study[0])
    return lungseg('pacs', orthanc, '--study', study[0], '--overlay', '--bs', '2'), before


def test_stores_seg_and_overlay(orthanc, study, first_run):
    r, before = first_run
    no_traceback(r)
    assert r.returncode == 1, r.stdout + r.stderr   # the broken instance failed
    assert 'lungseg pacs: 2 instances segmented and stored, 0 already done, 1 failed; skipped: 1 CT series' in r.stdout, r.stdout
    broken = pydicom.dcmread(next(f for f in Path(study[1]['DX']).parent.glob('broken.dcm')))
    bad = [l for l in r.stderr.splitlines() if 'failed' in l]
    assert len(bad) == 1 and broken.SOPInstanceUID in bad[0] and 'cannot read DICOM' in bad[0], r.stderr
    after = series(orthanc, study[0])
    assert len(after) == len(before) + 4   # two SEG series and two overlay series, nothing else
    assert {uid(s) for s in before} <= {uid(s) for s in after}
    assert len(series(orthanc, study[0], 'SEG')) == 2 and len(series(orthanc, study[0], 'OT')) == 2


def test_sources_unchanged(orthanc, study, first_run):
    "The server's data is only added to: each source series still holds its one instance, with the same pixels"
    c = client(orthanc)
    for mod, fn in study[1].items():
        src = pydicom.dcmread(fn)
        got = c.search_for_instances(study[0], src.SeriesInstanceUID)
        assert [uid(i, '00080018') for i in got] == [src.SOPInstanceUID]
        assert np.array_equal(c.retrieve_instance(study[0], src.SeriesInstanceUID, src.SOPInstanceUID).pixel_array, src.pixel_array)


def test_seg_references_source_and_equals_predict(orthanc, study, first_run, tmp_path):
    c = client(orthanc)
    segs = {}
    for s in series(orthanc, study[0], 'SEG'):
        (i,) = c.search_for_instances(study[0], uid(s))
        ds = c.retrieve_instance(study[0], uid(s), uid(i, '00080018'))
        segs[ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID] = ds
    for mod in ('DX', 'CR'):
        src = pydicom.dcmread(study[1][mod])
        seg = segs[src.SOPInstanceUID]
        assert (seg.StudyInstanceUID, seg.ReferencedSeriesSequence[0].SeriesInstanceUID) == (src.StudyInstanceUID, src.SeriesInstanceUID)
        assert seg.SeriesInstanceUID != src.SeriesInstanceUID and seg.SeriesDescription.startswith('lungseg lung segmentation')
        r = lungseg('predict', study[1][mod], '--dicom-seg', '--out', tmp_path/mod, '--quiet')
        assert r.returncode == 0, r.stdout + r.stderr
        ref = pydicom.dcmread(tmp_path/mod/f"{Path(study[1][mod]).stem}_seg.dcm")
        assert seg.pixel_array.shape == ref.pixel_array.shape == (2, src.Rows, src.Columns)
        assert np.array_equal(seg.pixel_array, ref.pixel_array) and ref.pixel_array.any()
    assert len(segs) == 2


def test_rerun_stores_nothing(orthanc, study, first_run):
    n = len(series(orthanc, study[0]))
    r = lungseg('pacs', orthanc, '--study', study[0], '--overlay')
    no_traceback(r)
    assert 'lungseg pacs: 0 instances segmented and stored, 2 already done, 1 failed' in r.stdout, r.stdout
    assert len(series(orthanc, study[0])) == n


def test_overlay_added_later(orthanc, tmp_path):
    "A SEG without its overlay: a run with --overlay adds the overlay only"
    st = upload(orthanc, write_study(tmp_path, IMGS[:1], ['DX']))
    assert lungseg('pacs', orthanc, '--study', st).returncode == 0
    assert [len(series(orthanc, st, m)) for m in ('SEG', 'OT')] == [1, 0]
    r = lungseg('pacs', orthanc, '--study', st, '--overlay')
    assert r.returncode == 0 and 'stored OVERLAY of instance' in r.stdout, r.stdout + r.stderr
    assert [len(series(orthanc, st, m)) for m in ('SEG', 'OT')] == [1, 1]


def test_heart_stores_seg_and_sr(orthanc, tmp_path):
    "--heart: a SEG with the heart and an SR that references it and holds predict's numbers; a rerun stores nothing"
    import highdicom as hd, pandas as pd
    fns = write_study(tmp_path, IMGS[:2], ['DX', 'CR'])
    st = upload(orthanc, fns)
    r = lungseg('pacs', orthanc, '--study', st, '--heart')
    no_traceback(r)
    assert r.returncode == 0 and r.stdout.count('stored SEG and SR of instance') == 2, r.stdout + r.stderr
    c, segs, srs = client(orthanc), {}, []
    for mod, out in (('SEG', segs), ('SR', srs)):
        for s in series(orthanc, st, mod):
            (i,) = c.search_for_instances(st, uid(s))
            ds = c.retrieve_instance(st, uid(s), uid(i, '00080018'))
            if mod == 'SEG': out[ds.SOPInstanceUID] = ds
            else: out.append(hd.sr.Comprehensive3DSR.from_dataset(ds))
    assert len(segs) == 2 and len(srs) == 2 and all(len(s.SegmentSequence) == 3 for s in segs.values())
    p = lungseg('predict', *fns, '--heart', '--out', tmp_path/'pred', '--quiet')
    assert p.returncode == 0, p.stdout + p.stderr
    ctrs = dict(zip([pydicom.dcmread(f).SOPInstanceUID for f in fns], pd.read_csv(tmp_path/'pred'/'predictions.csv').ctr))
    for x in srs:
        (whole,) = x.content.get_image_measurement_groups()
        src = whole.source_images[0].referenced_sop_instance_uid
        assert abs(whole.get_measurements()[0].value - ctrs[src]) < 1e-6
        refs = {g.referenced_segmentation_frame.referenced_sop_instance_uid for g in x.content.get_planar_roi_measurement_groups()}
        assert refs <= set(segs)
    n = len(series(orthanc, st))
    r = lungseg('pacs', orthanc, '--study', st, '--heart')
    assert r.returncode == 0 and '0 instances segmented and stored, 2 already done' in r.stdout, r.stdout + r.stderr
    assert len(series(orthanc, st)) == n

def test_dry_run_and_query(orthanc, tmp_path):
    fns = write_study(tmp_path, IMGS[:2], ['DX', 'CR'])
    st = upload(orthanc, fns)
    n = len(series(orthanc, st))
    r = lungseg('pacs', orthanc, '--study', st, '--dry-run')
    assert r.returncode == 0, r.stdout + r.stderr
    assert sum(l.startswith('would store SEG of study') for l in r.stdout.splitlines()) == 2
    assert 'lungseg pacs: 2 instances to segment, 0 already done, 0 failed' in r.stdout, r.stdout
    assert len(series(orthanc, st)) == n   # nothing stored
    r = lungseg('pacs', orthanc, '--date', '20240101-20240131', '--modality', 'CR', '--dry-run')   # a query: this study and the session's
    assert st in r.stdout and r.returncode == 0, r.stdout + r.stderr
    assert 'to segment' in lungseg('pacs', orthanc, '--date', '19990101', '--dry-run').stdout


def test_killed_run_resumes_without_duplicates(orthanc, tmp_path):
    k = 8
    fns = write_study(tmp_path, [IMGS[i % 4] for i in range(k)], ['DX']*k)
    st = upload(orthanc, fns)
    stored = 3   # the run exits as a crash would (code 3, no cleanup) right after its third store: LUNGSEG_STOP_AFTER
    e = {**os.environ, 'HOME': '/nonexistent', 'LUNGSEG_STOP_AFTER': str(stored)}
    r = subprocess.run([str(BIN/'lungseg'), 'pacs', orthanc, '--study', st, '--bs', '1'], capture_output=True, text=True,
                       env=e)
    assert r.returncode == 3, r.stdout + r.stderr
    assert len(series(orthanc, st, 'SEG')) == stored, f"{len(series(orthanc, st, 'SEG'))} of {k} stored, not {stored}"
    r = lungseg('pacs', orthanc, '--study', st)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f'{k - stored} instances segmented and stored, {stored} already done, 0 failed' in r.stdout, r.stdout
    c, refs = client(orthanc), []
    for s in series(orthanc, st, 'SEG'):
        (i,) = c.search_for_instances(st, uid(s))
        refs.append(c.retrieve_instance(st, uid(s), uid(i, '00080018')).ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID)
    assert sorted(refs) == sorted(pydicom.dcmread(f).SOPInstanceUID for f in fns)   # one SEG per source, no duplicate


@pytest.mark.parametrize('how', ['down', 'wrong-url', 'credentials-in-url'])
def test_cannot_start(orthanc, study, how):
    url = {'down': f'http://127.0.0.1:{free_port()}/dicom-web', 'wrong-url': orthanc.replace('/dicom-web', '/nope'),
           'credentials-in-url': orthanc.replace('http://', 'http://bob:secret@')}[how]
    r = lungseg('pacs', url, '--study', study[0])
    no_traceback(r)
    assert r.returncode == 2 and r.stdout == '' and len(r.stderr.strip().splitlines()) == 1, r.stdout + r.stderr
    assert {'down': 'cannot connect to', 'wrong-url': 'HTTP 404', 'credentials-in-url': 'credentials do not go in the URL'}[how] in r.stderr


def test_missing_study(orthanc, study):
    r = lungseg('pacs', orthanc, '--study', '1.2.3.4.5', '--study', study[0], '--dry-run')
    no_traceback(r)
    assert r.returncode == 1 and 'failed: study 1.2.3.4.5: no such study on the server' in r.stderr, r.stdout + r.stderr
    assert '2 already done, 1 failed' in r.stdout   # the other study is still planned


def secured_study(url, tmp_path) -> str:
    return upload(url, write_study(tmp_path, IMGS[:1], ['DX']), auth=('lungseg', USERS['lungseg']))


def test_401_without_or_with_wrong_credentials(secured, tmp_path):
    st = secured_study(secured, tmp_path)
    for env in ({}, {'LUNGSEG_PACS_USER': 'lungseg', 'LUNGSEG_PACS_PASSWORD': 'wrong'}):
        r = lungseg('pacs', secured, '--study', st, env=env)
        no_traceback(r)
        assert r.returncode == 2 and 'HTTP 401 Unauthorized' in r.stderr and 'LUNGSEG_PACS_USER' in r.stderr, r.stdout + r.stderr


def test_store_refused_and_forbidden(secured, tmp_path):
    "Credentials from the environment, then from a netrc file; the server refuses the SEG (filter), and user 'reader' may not POST (403)"
    st = secured_study(secured, tmp_path)
    netrc = tmp_path/'netrc'; netrc.write_text(f"machine 127.0.0.1 login reader password {USERS['reader']}\n")
    for env, why in (({'LUNGSEG_PACS_USER': 'lungseg', 'LUNGSEG_PACS_PASSWORD': USERS['lungseg']}, 'does not hold it'), ({'NETRC': str(netrc)}, 'HTTP 403 Forbidden')):
        r = lungseg('pacs', secured, '--study', st, env=env)
        no_traceback(r)
        assert r.returncode == 1 and '0 instances segmented and stored, 0 already done, 1 failed' in r.stdout, r.stdout + r.stderr
        (line,) = [l for l in r.stderr.splitlines() if 'failed' in l]
        assert pydicom.dcmread(next(tmp_path.glob('*.dcm'))).SOPInstanceUID in line and why in line, line
    assert series(secured, st, 'SEG', auth=('lungseg', USERS['lungseg'])) == []


class Proxy(http.server.BaseHTTPRequestHandler):
    "Forwards each request to the Orthanc at `server.target`, as a TLS-terminating proxy in front of a PACS does (Debian's Orthanc 1.10 crashes on HTTPS itself)"
    def body(self) -> bytes:
        if self.headers.get('Transfer-Encoding', '').lower() != 'chunked': return self.rfile.read(int(self.headers.get('Content-Length') or 0))
        out = b''
        while (n := int(self.rfile.readline().split(b';')[0], 16)): out += self.rfile.read(n); self.rfile.readline()
        self.rfile.readline(); return out
    def forward(self):
        import requests
        hdrs = {k: v for k, v in self.headers.items() if k.lower() in ('content-type', 'accept', 'authorization')}
        r = requests.request(self.command, self.server.target + self.path, data=self.body(), headers=hdrs)
        self.send_response(r.status_code)
        if 'Content-Type' in r.headers: self.send_header('Content-Type', r.headers['Content-Type'])
        self.send_header('Content-Length', str(len(r.content))); self.end_headers(); self.wfile.write(r.content)
    do_GET = do_POST = forward
    def log_message(self, *a): pass


@pytest.fixture(scope='session')
def https_orthanc(orthanc, tmp_path_factory):
    "The session's Orthanc behind an HTTPS proxy with a self-signed certificate for 127.0.0.1: (URL, its CA bundle)"
    if not shutil.which('openssl'): pytest.skip('the openssl command is not installed')
    ca = self_signed_cert(tmp_path_factory.mktemp('tls'))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Proxy); httpd.target = orthanc.split('/dicom-web')[0]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(ca, ca.parent/'key.pem')
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'https://127.0.0.1:{httpd.server_address[1]}/dicom-web', ca
    httpd.shutdown()


def test_https_checks_certificates(orthanc, https_orthanc, tmp_path):
    "Certificates are checked by default; --ca-bundle or REQUESTS_CA_BUNDLE names the CA that signed the server's"
    url, ca = https_orthanc
    st = upload(orthanc, write_study(tmp_path, IMGS[:1], ['DX']))
    r = lungseg('pacs', url, '--study', st)
    no_traceback(r)
    assert r.returncode == 2 and 'certificate check failed' in r.stderr and '--ca-bundle' in r.stderr, r.stdout + r.stderr
    assert series(orthanc, st, 'SEG') == []
    r = lungseg('pacs', url, '--study', st, '--ca-bundle', ca)
    assert r.returncode == 0 and '1 instances segmented and stored, 0 already done' in r.stdout, r.stdout + r.stderr
    r = lungseg('pacs', url, '--study', st, env={'REQUESTS_CA_BUNDLE': str(ca)})
    assert r.returncode == 0 and '0 instances segmented and stored, 1 already done' in r.stdout, r.stdout + r.stderr
    assert len(series(orthanc, st, 'SEG')) == 1
